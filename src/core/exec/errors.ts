import { ExitCode, UserError } from '../errors.js';

/**
 * The SSH connection itself failed (ssh exited 255: unreachable, refused, auth, host key), as opposed to
 * the remote command failing. Exit 1 with code TRANSPORT.
 */
export class TransportError extends UserError {
  readonly destination: string;
  readonly reason: string;

  constructor(destination: string, reason: string, hint: string, cause?: unknown) {
    super(`cannot reach ${destination}: ${reason}; check the host is up and \`${hint}\` works`, {
      hint: `run \`${hint}\` to see the full error`,
      exitCode: ExitCode.FAILED,
      code: 'TRANSPORT',
      cause,
    });
    this.name = 'TransportError';
    this.destination = destination;
    this.reason = reason;
  }
}
