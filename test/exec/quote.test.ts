import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shJoin, shQuote } from '../../src/core/exec/quote.js';

/** What a real POSIX shell makes of a quoted word. */
function throughSh(quoted: string): string {
  return execFileSync('sh', ['-c', `printf %s ${quoted}`], { encoding: 'utf8' });
}

describe('shQuote', () => {
  it('wraps in single quotes and escapes quotes as \'\\\'\'', () => {
    expect(shQuote('abc')).toBe("'abc'");
    expect(shQuote('')).toBe("''");
    expect(shQuote("it's")).toBe("'it'\\''s'");
    expect(shQuote("''")).toBe("''\\'''\\'''");
  });

  it('rejects NUL', () => {
    expect(() => shQuote('a\0b')).toThrow(/NUL/);
  });

  it.each([
    '$(id)', '`id`', 'a b', 'x; touch /tmp/pwned', "'; rm -rf / #", '\n', 'line1\nline2', '*', '~root', '-n',
    '\\', '"$HOME"', '!', '{a,b}', '$((1+1))', 'é ✓ 漢字',
  ])('round-trips %j through sh', (s) => {
    expect(throughSh(shQuote(s))).toBe(s);
  });

  it('round-trips any NUL-free string through a real sh (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0')), (s) => {
        expect(execFileSync('sh', ['-c', `printf %s "$1"`, 'sh', s], { encoding: 'utf8' })).toBe(s);
        expect(throughSh(shQuote(s))).toBe(s);
      }),
      { numRuns: 150 },
    );
  });

  it('keeps argument boundaries when joined (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string().filter((s) => !s.includes('\0')), { maxLength: 5 }), (args) => {
        const out = execFileSync('sh', ['-c', `for a in ${shJoin(args)}; do printf '%s\\0' "$a"; done`], { encoding: 'utf8' });
        expect(out.split('\0').slice(0, -1)).toEqual(args);
      }),
      { numRuns: 80 },
    );
  });
});
