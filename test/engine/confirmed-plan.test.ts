/**
 * What the operator confirmed is what runs: `rollback` without --yes in a real pseudo-terminal (tmux on
 * a private socket) shows the plan and asks; before the answer, someone else marks the proposed target
 * bad, or moves live. The answer then gets exit 1 "the plan changed since you confirmed", and nothing
 * changes: same release live, service up on it, no history, marks as the other party left them, no lock.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasTmux, tmuxPerTest } from '../helpers/tmux.js';
import { bin, makeFixture, pollUntil, sh, type Fixture } from './fixture.js';

const { tmux, afterTest } = tmuxPerTest('rtui-pinned');

/**
 * Start `rollback` in a terminal, wait for its question, run `meanwhile` (someone else acting), answer
 * `y`; the exit code and the whole output (stderr goes to a file, the pane is too small for it).
 */
async function confirmAfter(f: Fixture, session: string, meanwhile: () => void): Promise<{ code: number; output: string }> {
  const exitFile = path.join(f.layout.root, `${session}.exit`);
  const errFile = path.join(f.layout.root, `${session}.err`);
  const cmd = `${sh(process.execPath)} ${sh(bin)} --config ${sh(f.configFile)} rollback --env ${f.envName} --reason 'confirmed at the prompt' 2> >(tee ${sh(errFile)} >&2); echo $? > ${sh(exitFile)}`;
  tmux('new-session', '-d', '-x', '200', '-y', '50', '-s', session, 'bash', '-c', cmd);
  await pollUntil(() => tmux('capture-pane', '-p', '-t', session).includes('? [y/N]'), 30_000, 'the question');
  meanwhile();
  tmux('send-keys', '-t', session, '-l', 'y');
  tmux('send-keys', '-t', session, 'Enter');
  await pollUntil(() => existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim() !== '', 60_000, 'the rollback to exit');
  return { code: Number(readFileSync(exitFile, 'utf8').trim()), output: readFileSync(errFile, 'utf8') };
}

function markBad(f: Fixture, name: string): void {
  mkdirSync(f.layout.stateDir, { recursive: true });
  writeFileSync(path.join(f.layout.stateDir, 'marks.json'), JSON.stringify({ known_good: [], bad: [name] }));
}

/** Nothing was done: `live` live and serving, no history, no lock, no journal. */
async function expectUntouched(f: Fixture, live: string): Promise<void> {
  expect(f.live()).toBe(live);
  expect(await f.serviceVersion()).toBe(live);
  expect(f.history()).toEqual([]);
  for (const d of ['locks', 'journal']) {
    const dir = path.join(f.layout.stateDir, d);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  }
}

describe.skipIf(!hasTmux)('rollback runs the plan that was confirmed', () => {
  it('the proposed target is marked bad before the answer: refused with exit 1, nothing changes', async () => {
    const fx = afterTest(await makeFixture());
    const [, r2, r3] = fx.names as [string, string, string];
    const f = fx;
    const { code, output } = await confirmAfter(f, 'marked', () => markBad(f, r2));
    expect(code, output).toBe(1);
    expect(output).toContain('the plan changed since you confirmed');
    expect(output).toContain(`${r2} was marked bad meanwhile`);
    expect(output).toContain(`you confirmed ${r3} -> ${r2}`);
    await expectUntouched(f, r3);
    expect(f.marks()).toEqual({ known_good: [], bad: [r2] });
  });

  it('live moves before the answer: refused with exit 1, the release put live is left alone', async () => {
    const fx = afterTest(await makeFixture({ releases: [{}, {}, {}, {}] }));
    const [, r2, r3, r4] = fx.names as [string, string, string, string];
    const f = fx;
    const { code, output } = await confirmAfter(f, 'moved', () => f.layout.pointCurrentAt(r2));
    expect(code, output).toBe(1);
    expect(output).toContain(`the plan changed since you confirmed: live is now ${r2}, not ${r4}`);
    expect(output).toContain(`you confirmed ${r4} -> ${r3}`);
    expect(f.live()).toBe(r2);
    expect(f.history()).toEqual([]);
    expect(f.marks()).toEqual({ known_good: [], bad: [] });
  });

  it('nothing changed before the answer: the confirmed plan runs', async () => {
    const fx = afterTest(await makeFixture());
    const [, r2, r3] = fx.names as [string, string, string];
    const { code, output } = await confirmAfter(fx, 'same', () => {});
    expect(code, output).toBe(0);
    expect(fx.live()).toBe(r2);
    expect(fx.history()[0]).toMatchObject({ from: r3, to: r2, success: true, reason: 'confirmed at the prompt' });
  });
});
