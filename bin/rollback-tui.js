#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm run build`).
import { main } from '../dist/cli/main.js';

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
