/**
 * The interactive confirmation of `rollback` in a real pseudo-terminal (tmux on a private socket):
 * a `confirm: type-name` environment refuses a wrong name (nothing changes, exit 1) and rolls back
 * when the operator types the environment's name; an emergency rollback asks for the name even on a
 * `yes-no` environment, where a plain `y` changes nothing; a standard rollback there takes `y`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasTmux, tmuxPerTest } from '../helpers/tmux.js';
import { bin, makeFixture, pollUntil, sh, type Fixture } from './fixture.js';

const { tmux, afterTest } = tmuxPerTest('rtui-confirm');

const NAME_PROMPT = 'Type the environment name (test)';
const YES_PROMPT = 'Roll back test from';

/** Run `rollback` without --yes in a terminal, wait for `prompt`, answer it, return the exit code. */
async function answerPrompt(f: Fixture, answer: string, session: string, o: { prompt?: string; args?: string } = {}): Promise<number> {
  const exitFile = path.join(f.layout.root, `${session}.exit`);
  const prompt = o.prompt ?? NAME_PROMPT;
  const cmd = `${sh(process.execPath)} ${sh(bin)} --config ${sh(f.configFile)} rollback --env ${f.envName} --reason 'typed at the prompt' ${o.args ?? ''}; echo $? > ${sh(exitFile)}`;
  tmux('new-session', '-d', '-x', '160', '-y', '40', '-s', session, cmd);
  await pollUntil(() => tmux('capture-pane', '-p', '-t', session).includes(prompt), 30_000, `the prompt "${prompt}"`);
  tmux('send-keys', '-t', session, '-l', answer);
  tmux('send-keys', '-t', session, 'Enter');
  await pollUntil(() => existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim() !== '', 60_000, 'the rollback to exit');
  return Number(readFileSync(exitFile, 'utf8').trim());
}

describe.skipIf(!hasTmux)('rollback asks on the terminal', () => {
  it('type-name: a wrong name changes nothing; the right name rolls back', async () => {
    const fx = afterTest(await makeFixture());
    fx.writeConfig({ confirm: 'type-name' });
    const before = fx.live();
    expect(await answerPrompt(fx, 'prod', 'wrong')).toBe(1);
    expect(fx.live()).toBe(before);
    expect(fx.history()).toHaveLength(0);
    expect(await answerPrompt(fx, 'test', 'right')).toBe(0);
    expect(fx.live()).not.toBe(before);
    expect(fx.history()[0]).toMatchObject({ reason: 'typed at the prompt', success: true, trigger: 'manual' });
  });

  it('emergency on a yes-no environment asks for the name: y changes nothing, the name rolls back', async () => {
    const fx = afterTest(await makeFixture());
    fx.writeConfig({ confirm: 'yes-no' });
    const before = fx.live();
    expect(await answerPrompt(fx, 'y', 'emergency-y', { args: '--emergency' })).toBe(1);
    expect(fx.live()).toBe(before);
    expect(fx.history()).toHaveLength(0);
    expect(await answerPrompt(fx, 'test', 'emergency-name', { args: '--emergency' })).toBe(0);
    expect(fx.live()).not.toBe(before);
    expect(fx.history()[0]).toMatchObject({ kind: 'emergency', success: true, trigger: 'manual' });
  });

  it('a standard rollback on a yes-no environment takes y', async () => {
    const fx = afterTest(await makeFixture());
    fx.writeConfig({ confirm: 'yes-no' });
    const before = fx.live();
    expect(await answerPrompt(fx, 'y', 'standard-y', { prompt: YES_PROMPT })).toBe(0);
    expect(fx.live()).not.toBe(before);
    expect(fx.history()[0]).toMatchObject({ kind: 'standard', success: true });
  });
});
