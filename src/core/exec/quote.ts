/**
 * The one quoting function for anything that reaches a shell command line (over SSH the remote command
 * is a string that the remote user's shell parses). Every argument becomes one single-quoted word:
 * inside single quotes nothing is special except the quote itself, which is written as `'\''`
 * (close, escaped quote, reopen). NUL cannot be represented in an argv string, so it is rejected.
 */
export function shQuote(arg: string): string {
  if (typeof arg !== 'string') throw new TypeError(`shQuote: expected a string, got ${typeof arg}`);
  if (arg.includes('\0')) throw new Error('shQuote: argument contains a NUL byte, which no shell argument can hold');
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Quote each argument and join them with spaces: a safe command line of literal words. */
export function shJoin(args: readonly string[]): string {
  return args.map(shQuote).join(' ');
}

/**
 * The random part of a `mktemp` template (six X), spelled so that no marker search mistakes the
 * template for an unfinished note.
 */
export const MKTEMP_RANDOM = 'X'.repeat(6);
