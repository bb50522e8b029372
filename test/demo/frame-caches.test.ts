/**
 * The console bundle caches ink's measuring and tokenizing of lines across frames (scripts/bundle-plugins.mjs).
 * A cached answer must be the answer: the same frames, byte for byte, as without the caches, over frames
 * whose braille charts (120x40) change every time. Timings are never asserted (bench/frame-cost.mjs measures them).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

function frames(extra: string[]): { output_sha256: string; bytes_per_frame: number; frame_caches: boolean; frames: number } {
  const r = spawnSync(process.execPath, ['--no-deprecation', path.join(ROOT, 'bench', 'frame-cost.mjs'), '--frames', '60', '--check', ...extra], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  expect(r.status, `frame-cost failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}');
}

describe('frame caches of the console bundle', () => {
  it('draw the same frames as ink without them', () => {
    const cached = frames([]);
    const uncached = frames(['--uncached']);
    expect(cached.frame_caches).toBe(true);
    expect(uncached.frame_caches).toBe(false);
    expect(cached.frames).toBeGreaterThan(0);
    // Something was drawn on every frame (the charts move), and it was the same.
    expect(cached.bytes_per_frame).toBeGreaterThan(100);
    expect(cached.output_sha256).toBe(uncached.output_sha256);
  });
});
