/**
 * State file operations as POSIX sh functions, so that several of them (and other checks) go to the host
 * in ONE script: the rollback's preflight (lock, journal, target check) and its record (incident report,
 * history, journal, lock) each take one round trip over SSH. The single operations of StateDir use the
 * same functions, so the guarantees are the same either way: a new file is written beside its name under
 * a `mktemp` name (created exclusively, mode 0600), fsynced, then renamed (or, for an exclusive create,
 * hard-linked) over the name, and the directory fsynced.
 *
 * Paths and contents are passed as quoted literals inside the script (stdin), never on a command line.
 */
import { MKTEMP_RANDOM, shQuote } from '../exec/quote.js';

/**
 * The functions. Each returns 0 on success; create_exclusive returns 10 when the name exists already;
 * remove_if_owner returns 10 when the file holds another operation's id (left in place). `$tmp` is the
 * temp file in flight, removed on exit if the script dies between its creation and its rename.
 */
export const STATE_FUNCTIONS = `
umask 077
fsync_file() { sync -d -- "$1" 2>/dev/null || :; }
fsync_dir() { sync -- "$1" 2>/dev/null || :; }
tmp=
trap 'rm -f -- "$tmp"' EXIT
write_temp() {
  d=$(dirname -- "$1") && mkdir -p -- "$d" || return 1
  tmp=$(mktemp "$d/.tmp.$(basename -- "$1").${MKTEMP_RANDOM}") || return 1
  printf '%s' "$2" > "$tmp" || return 1
  fsync_file "$tmp"
}
write_atomic() {
  write_temp "$1" "$2" || return 1
  mv -f -- "$tmp" "$1" || return 1
  tmp=
  fsync_dir "$d"
}
create_exclusive() {
  write_temp "$1" "$2" || return 1
  if [ -d "$1" ]; then rm -f -- "$tmp"; tmp=; return 10; fi
  if ln -- "$tmp" "$1" 2>/dev/null; then rm -f -- "$tmp"; tmp=; fsync_dir "$d"; return 0; fi
  if [ -e "$1" ] || [ -L "$1" ]; then rm -f -- "$tmp"; tmp=; return 10; fi
  ln -- "$tmp" "$1"
  return 1
}
remove_file() {
  if [ -d "$1" ] && [ ! -L "$1" ]; then rmdir -- "$1"; else rm -f -- "$1"; fi
}
remove_if_owner() {
  if [ -f "$1" ] && ! grep -qF -- "\\"operation_id\\":\\"$2\\"" "$1"; then return 10; fi
  rm -f -- "$1"
}
`;

/** One call of a function with quoted literal arguments: `write_atomic '/srv/state/x' '...'`. */
export function stateCall(fn: 'write_atomic' | 'create_exclusive' | 'remove_file' | 'remove_if_owner', ...args: string[]): string {
  for (const a of args) if (a.includes('\0')) throw new Error('state file content contains a NUL byte');
  return `${fn} ${args.map(shQuote).join(' ')}`;
}
