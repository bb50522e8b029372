/**
 * Container releases on a real podman through the built CLI: list, standard / second / targeted /
 * emergency rollbacks, pre-validation refusals (nothing stopped), a target that cannot start (the
 * previous one running again), failed verification (exit 2), two running at once, retention.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnBuiltCli } from '../engine/fixture.js';
import { makeContainerFixture, podman, podmanAvailable, podmanWrapper, type ContainerFixture, type ContainerFixtureOptions } from './fixture.js';

const fixtures: ContainerFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});
async function fixture(o: ContainerFixtureOptions = {}): Promise<ContainerFixture> {
  const f = await makeContainerFixture(o);
  fixtures.push(f);
  return f;
}

if (!podmanAvailable && process.env.CI) throw new Error('CI must install podman, runc and busybox-static');
const describePodman = podmanAvailable ? describe : describe.skip;

describePodman('container releases on podman', () => {
  it('list: versions newest first by creation time, the running one current, image id and digest, state', async () => {
    const fx = await fixture();
    const r = await fx.cli(['list', '--env', 'test', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as { name: string; current: boolean; created: string }[];
    expect(list.map((b) => b.name)).toEqual(['v3', 'v2', 'v1']);
    expect(list.map((b) => b.current)).toEqual([true, false, false]);
    expect(Date.parse(list[0]!.created)).toBeGreaterThanOrEqual(Date.parse(list[2]!.created));
    const table = await fx.cli(['list', '--env', 'test']);
    expect(table.code, table.stderr).toBe(0);
    const imageId = (await podman(['container', 'inspect', '--format', '{{.Image}}', fx.container('v2')])).stdout.trim();
    const digest = (await podman(['container', 'inspect', '--format', '{{.ImageDigest}}', fx.container('v2')])).stdout.trim();
    const v2line = table.stdout.split('\n').find((l) => l.includes(`${fx.container('v2')} `))!;
    expect(v2line).toContain(`image ${imageId.slice(0, 12)} ${digest.replace('sha256:', '').slice(0, 12)}`);
    expect(v2line).toMatch(/· (exited|created) ·/);
    expect(table.stdout.split('\n').find((l) => l.includes(`${fx.container('v3')} `))).toMatch(/current.*· running ·/);
  });

  it('a standard rollback v3 -> v2 serves v2 and keeps the volume data; the second goes to v1, never back to v3', async () => {
    const fx = await fixture();
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'INC-1 v3 broken', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { from: string; to: string; verification: string };
    expect(res).toMatchObject({ from: 'v3', to: 'v2', verification: 'passed' });
    expect(await fx.running()).toEqual(['v2']);
    expect(await fx.serving()).toBe('v2');
    // What v3 wrote to the named volume is still there, and v2 reads it.
    expect(await fx.volumeLog()).toEqual(['started v3', 'started v2']);
    const data = await (await fetch(`http://127.0.0.1:${fx.port}/cgi-bin/data`)).text();
    expect(data).toContain('started v3');
    expect(fx.marks()).toEqual({ known_good: ['v2'], bad: ['v3'] });

    // The incident report: both image ids and the inspect difference, env values redacted.
    const report = readFileSync(fx.history()[0]!.incident_report as string, 'utf8');
    const id3 = (await podman(['container', 'inspect', '--format', '{{.Image}}', fx.container('v3')])).stdout.trim();
    const id2 = (await podman(['container', 'inspect', '--format', '{{.Image}}', fx.container('v2')])).stdout.trim();
    expect(report).toContain(id3);
    expect(report).toContain(id2);
    expect(report).toContain('env API_TOKEN: value changed (values redacted)');
    expect(report).toContain('env VERSION: value changed (values redacted)');
    expect(report).not.toContain('secret-of-v');

    const second = await fx.cli(['rollback', '--env', 'test', '--reason', 'INC-1 v2 also broken', '--yes', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ from: 'v2', to: 'v1' });
    expect(await fx.running()).toEqual(['v1']);
    expect(await fx.serving()).toBe('v1');
    expect(await fx.volumeLog()).toEqual(['started v3', 'started v2', 'started v1']);
  });

  it('the dry run shows the engine commands and changes nothing', async () => {
    const fx = await fixture();
    const r = await fx.cli(['rollback', '--env', 'test', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`podman stop -t 5 ${fx.container('v3')}`);
    expect(r.stdout).toContain(`podman start ${fx.container('v2')}`);
    expect(r.stdout).toContain(`podman container inspect ${fx.container('v2')}   (exists, not the running one)`);
    expect(r.stdout).toContain('podman image inspect <its image>');
    expect(await fx.running()).toEqual(['v3']);
  });

  it('--to a missing container: exit 1, nothing stopped', async () => {
    const fx = await fixture();
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--to', 'v9', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('backup "v9" not found in the podman containers');
    expect(await fx.running()).toEqual(['v3']);
    expect(await fx.serving()).toBe('v3');
  });

  it('pre-validation: a target whose bind source is gone is refused with exit 1 naming it, nothing stopped', async () => {
    const fx = await fixture({ releases: [{ version: 'v1', bind: true }, { version: 'v2' }] });
    rmSync(path.join(fx.root, 'bind-v1'), { recursive: true });
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${fx.container('v1')} cannot start: missing on local: bind ${path.join(fx.root, 'bind-v1')}; nothing was stopped`);
    expect(await fx.running()).toEqual(['v2']);
    expect(await fx.serving()).toBe('v2');
    expect(fx.history()).toHaveLength(1);
    expect(fx.history()[0]).toMatchObject({ success: false, to: 'v1' });
    const verify = await fx.cli(['verify', '--env', 'test']);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain(`bind ${path.join(fx.root, 'bind-v1')}`);
  });

  it('validate commands get the version and the container; a failing one refuses with exit 1, nothing stopped', async () => {
    const fx = await fixture({ releases: [{ version: 'v1' }, { version: 'v2' }] });
    fx.writeConfig({ target: { strategy: 'container', engine: 'podman', name: fx.name, validate: [`test "$ROLLBACK_TARGET:$ROLLBACK_TARGET_PATH" = "v1:${fx.name}-v0"`] } });
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('validation of "v1" failed');
    expect(await fx.running()).toEqual(['v2']);
    fx.writeConfig({ target: { strategy: 'container', engine: 'podman', name: fx.name, validate: [`test "$ROLLBACK_TARGET:$ROLLBACK_TARGET_PATH" = "v1:${fx.name}-v1"`] } });
    const ok = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await fx.running()).toEqual(['v1']);
  });

  it('a target that cannot start: the previous one runs again, exit 1, nothing changed', async () => {
    const fx = await fixture({ releases: [{ version: 'v1' }, { version: 'v2', mode: 'nostart' }, { version: 'v3' }] });
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const res = JSON.parse(r.stdout) as { steps: { name: string; status: string }[] };
    expect(r.stderr).toContain(`${fx.container('v2')} did not start (Error: unable to start container`);
    expect(r.stderr).toContain('/bin/does-not-exist');
    expect(r.stderr).toContain('the previous release was started again: nothing changed');
    expect(r.stdout + r.stderr).toContain(`podman start ${fx.container('v3')}   (starting the previous release again)`);
    expect(res.steps.find((s) => s.name === 'switch')?.status).toBe('failed');
    expect(await fx.running()).toEqual(['v3']);
    expect(await fx.serving()).toBe('v3');
    // Nothing changed: no release marked.
    expect(fx.marks()).toEqual({ known_good: [], bad: [] });
  });

  it('the engine fails to stop the live container: it is started again, exit 1, nothing changed', async () => {
    const fx = await fixture();
    const PATH = podmanWrapper(path.join(fx.root, 'bin'), `[ "$1" = stop ] && { echo "Error: simulated stop failure" >&2; exit 125; }`);
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes'], { env: { PATH } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stopping the live container failed: Error: simulated stop failure; it was started again: nothing changed');
    expect(await fx.running()).toEqual(['v3']);
    expect(await fx.serving()).toBe('v3');
  });

  it('neither the target nor the previous release starts: exit 1 saying NOTHING IS RUNNING', async () => {
    const fx = await fixture({ releases: [{ version: 'v1' }, { version: 'v2', mode: 'nostart' }, { version: 'v3' }] });
    const PATH = podmanWrapper(path.join(fx.root, 'bin'), `[ "$1" = start ] && [ "$3" = ${fx.container('v3')} ] && { echo "Error: simulated start failure" >&2; exit 125; }`);
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes'], { env: { PATH } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${fx.container('v2')} did not start, and starting the previous release again failed too (could not start ${fx.container('v3')} again: Error: simulated start failure`);
    expect(r.stderr).toContain('NOTHING IS RUNNING');
    expect(await fx.running()).toEqual([]);
    expect(fx.history()[0]).toMatchObject({ success: false, from: 'v3', to: 'v2' });
  });

  it('verification failing: exit 2, the restored release stays live', async () => {
    const fx = await fixture({ releases: [{ version: 'v1' }, { version: 'v2', mode: 'sick' }, { version: 'v3' }] });
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ to: 'v2', verification: 'failed' });
    expect(await fx.running()).toEqual(['v2']);
  });

  it('an emergency rollback: no pre-validation, no verification, v2 runs', async () => {
    const fx = await fixture();
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'outage', '--emergency', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { kind: string; verification: string; steps: { name: string; status: string }[] };
    expect(res.kind).toBe('emergency');
    expect(res.verification).toBe('skipped');
    expect(res.steps.find((s) => s.name === 'validate')?.status).toBe('skipped');
    expect(await fx.running()).toEqual(['v2']);
    expect(fx.marks().bad).toEqual(['v3']);
  });

  it('a paused live release holds the live slot: listed as current, stopped by the switch', async () => {
    const fx = await fixture();
    await podman(['pause', fx.container('v3')]);
    const list = await fx.cli(['list', '--env', 'test', '--json']);
    expect((JSON.parse(list.stdout) as { name: string; current: boolean }[]).find((b) => b.current)?.name).toBe('v3');
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(await fx.running()).toEqual(['v2']);
    expect((await podman(['container', 'inspect', '--format', '{{.State.Status}}', fx.container('v3')])).stdout.trim()).toBe('exited');
  });

  it('two running at once: list and verify say so; a rollback without --to is refused; --to stops both and starts the target', async () => {
    const fx = await fixture({ releases: [{ version: 'v1' }, { version: 'v2', otherPort: true }, { version: 'v3' }] });
    await podman(['start', fx.container('v2')]);
    const list = await fx.cli(['list', '--env', 'test']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toContain('are running at once');
    expect(list.stdout).toContain('2 RUNNING');
    const verify = await fx.cli(['verify', '--env', 'test']);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain(`2 containers of ${fx.name} are running at once (${fx.container('v3')}, ${fx.container('v2')})`);
    const refused = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('are running at once');
    expect(await fx.running()).toEqual(['v2', 'v3']);
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--to', 'v1', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(await fx.running()).toEqual(['v1']);
  });

  it('retention keeps the live, known-good and target ones, removes no volume, and never an image a kept container uses', async () => {
    const fx = await fixture({
      // v3 (known good) was created from v1's image.
      releases: [{ version: 'v1' }, { version: 'v2' }, { version: 'v3', sameImageAs: 'v1' }, { version: 'v4' }, { version: 'v5' }, { version: 'v6' }],
      target: { keep: 2 },
    });
    writeMarks(fx, { known_good: ['v3'], bad: [] });
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('retention (keep: 2) removed v2, v1');
    expect(await fx.running()).toEqual(['v5']);
    const left = (await podman(['ps', '-a', '--format', '{{.Names}}'])).stdout.split('\n').filter((n) => n.startsWith(`${fx.name}-`)).sort();
    // the newest 2 (v6, v5: live), the newest older than live (v4), the known-good v3; v2 and v1 removed
    expect(left).toEqual(['v3', 'v4', 'v5', 'v6'].map(fx.container));
    const exists = async (v: string) => (await podman(['image', 'exists', `localhost/${fx.name}:${v}`], { allowFail: true })).code;
    expect(await exists('v2')).toBe(1);
    expect(await exists('v1')).toBe(0); // kept: v3 uses it
    expect(await fx.volumeLog()).toEqual(['started v6', 'started v5']);
    expect(fx.marks().known_good).toContain('v3');
    // The known-good release still starts on its image.
    const back = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--to', 'v3', '--yes']);
    expect(back.code, back.stderr).toBe(0);
    expect(await fx.running()).toEqual(['v3']);
    expect(await fx.serving()).toBe('v1');
  });

  it('snapshot is refused with the reason, nothing created', async () => {
    const fx = await fixture({ releases: [{ version: 'v1' }] });
    const r = await fx.cli(['snapshot', '--env', 'test']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('snapshot is not available for container releases');
    const names = (await podman(['ps', '-a', '--format', '{{.Names}}'])).stdout.split('\n').filter((n) => n.startsWith(`${fx.name}-`));
    expect(names).toEqual([fx.container('v1')]);
  });
});

describe('container releases without the engine', () => {
  it('an engine that is not installed on the host: exit 1 naming it and the fix', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-noengine-'));
    try {
      mkdirSync(path.join(dir, 'bin'));
      symlinkSync('/bin/sh', path.join(dir, 'bin', 'sh'));
      const config = path.join(dir, 'rollback-config.yml');
      writeFileSync(config, `environments:\n  test:\n    target: { strategy: container, engine: podman, name: web }\n    state_dir: ${dir}/state\n`);
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const c = spawnBuiltCli(config, ['list', '--env', 'test'], { PATH: path.join(dir, 'bin') });
        c.on('close', () => resolve(c.out()));
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('podman is not installed (not on the PATH) on local');
      expect(r.stderr).toContain('set target.engine to the container CLI the host has (docker | podman)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function writeMarks(fx: ContainerFixture, marks: { known_good: string[]; bad: string[] }): void {
  mkdirSync(fx.stateDir, { recursive: true });
  writeFileSync(path.join(fx.stateDir, 'marks.json'), JSON.stringify(marks));
}
