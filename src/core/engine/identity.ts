/**
 * Who is doing this: recorded as `initiated_by` in history, shown in lock contention messages and the
 * incident report. `user@host`, plus the SSH client address (SSH_CLIENT / SSH_CONNECTION) and the
 * invoking user behind sudo (SUDO_USER) when present.
 */
import os from 'node:os';
import type { InitiatedBy } from './types.js';

export function currentIdentity(env: NodeJS.ProcessEnv = process.env): InitiatedBy {
  let user = env.USER || env.LOGNAME || '';
  if (!user) {
    try {
      user = os.userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  const id: InitiatedBy = { user, host: os.hostname() };
  const ssh = (env.SSH_CLIENT || env.SSH_CONNECTION || '').trim().split(/\s+/)[0];
  if (ssh) id.ssh_client = ssh;
  if (env.SUDO_USER && env.SUDO_USER !== user) id.sudo_user = env.SUDO_USER;
  return id;
}

/** "alice@bastion", "root@bastion (sudo from alice) from 10.0.0.5". */
export function formatIdentity(id: InitiatedBy): string {
  let s = `${id.user}@${id.host}`;
  if (id.sudo_user) s += ` (sudo from ${id.sudo_user})`;
  if (id.ssh_client) s += ` from ${id.ssh_client}`;
  return s;
}
