/**
 * What SshExecutor sends on stdin to the remote `sh -s`: the call's own script wrapped so that a timeout
 * or cancel ends the remote command too, not just the local ssh client, and so that an exit 255 of the
 * command can be told from ssh's own (transport) failure.
 *
 * The whole text is one `{ ... }` compound command, so the remote shell has read all of it before any of
 * it runs; nothing follows it, and the local side keeps stdin open until the call ends. Then:
 * 1. `MARKER` goes to stderr first: the command started (SshExecutor strips the line again).
 * 2. With a timeout, a deadline watchdog enforces it remotely as well (with some slack, so the local
 *    timeout normally acts first), for a connection that hangs instead of closing.
 * 3. A watchdog reads the rest of stdin. End of file while the shell still runs means the local side is
 *    gone: the call timed out or was cancelled (runProcess closes stdin), the ssh client or its
 *    ControlMaster was killed or closed, or the connection dropped. It then kills the session's process
 *    group (OpenSSH's sshd starts every session in a new one): SIGTERM, SIGKILL 2 s later. When the
 *    command ends normally, sshd closes stdin only after the shell has exited: the watchdog then just
 *    disarms the deadline and leaves, so daemons a `service.start` left behind are not touched.
 * 4. The body runs in the shell itself with stdin from /dev/null, or piped from the call's `stdin`
 *    data; the shell exits with its status (143 if the group was terminated).
 * Plain POSIX sh (dash, bash, busybox ash): no coreutils `timeout`, `setsid` or job control needed.
 * Cost: one more fork per call; with a timeout, two more and a `sleep` (about 3 and 6 ms on loopback).
 */
import { shQuote } from './quote.js';

/** Seconds the remote deadline adds to the call's timeout. */
const REMOTE_DEADLINE_SLACK_S = 5;

/** Kill the watchdog's process group: SIGTERM (not to itself), SIGKILL after 2 s. */
const KILL_GROUP = "trap '' TERM; kill -TERM 0; sleep 2; kill -KILL 0";

export function remoteInput(body: string, opts: { marker: string; timeoutMs?: number; stdin?: string }): string {
  const deadline =
    opts.timeoutMs !== undefined && opts.timeoutMs > 0 ? Math.ceil(opts.timeoutMs / 1000) + REMOTE_DEADLINE_SLACK_S : 0;
  const lines = ['{', `printf '%s\\n' ${shQuote(opts.marker)} >&2`, "trap 'exit 143' TERM", 'rtui_deadline='];
  if (deadline > 0) {
    lines.push(
      // The disarm (HUP) can come before this subshell has run a line (a call that ends at once, on a
      // loaded host): the trap is set first and the sleep is killed whenever it started, never left.
      `( p=; trap 'h=1; [ -z "$p" ] || kill $p' HUP; sleep ${deadline} & p=$!; [ -z "$h" ] || kill $p; wait $p; ` +
        `[ -z "$h" ] || exit 0; kill -0 $$ 2>/dev/null || exit 0; ${KILL_GROUP} ) </dev/null >/dev/null 2>&1 &`,
      'rtui_deadline=$!',
    );
  }
  // dash gives a background job /dev/null as stdin even with `<&0`: hand stdin over on fd 9 instead.
  lines.push(
    'exec 9<&0',
    '( while read -r _; do :; done; if kill -0 $$ 2>/dev/null; then ' +
      `${KILL_GROUP}; fi; [ -z "$rtui_deadline" ] || kill -HUP $rtui_deadline ) <&9 9<&- >/dev/null 2>&1 &`,
    'exec 9<&-',
  );
  if (opts.stdin !== undefined) lines.push(`printf '%s' ${shQuote(opts.stdin)} | {\n${body}\n}`);
  else lines.push(`{\n${body}\n} </dev/null`);
  // Exit here: the shell must not go back to reading stdin, which stays open.
  lines.push('exit', '}', '');
  return lines.join('\n');
}
