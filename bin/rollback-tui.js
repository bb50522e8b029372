#!/usr/bin/env node
// Thin launcher: the bundled CLI lives in dist/app/ (built by `npm run build`).
import { main, rollbackInProgress } from '../dist/app/main.js';

// `rollback-tui list | head`: a closed pipe is the reader saying it has enough, not an error; but
// never in the middle of a rollback (its reader died with the SSH session): the rollback finishes and
// its output is dropped. EIO: the terminal went away (an SSH session dropped). Crashing here could cut
// a rollback short; SIGHUP stops the console, the monitor and a rollback safely, so later writes are
// simply dropped.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') {
      if (!rollbackInProgress()) process.exit(process.exitCode ?? 0);
      return;
    }
    if (err && err.code === 'EIO') return;
    throw err;
  });
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    // main() renders every error itself; reaching here is a bug in the launcher.
    process.stderr.write(`rollback-tui: internal error: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
