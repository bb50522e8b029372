/**
 * The one rule for how an operator confirms a rollback, shared by the command line's prompt and the
 * console's dialog: an emergency rollback (no pre-validation, no verification) always asks for the
 * environment's name, and so does every environment configured with `confirm: type-name`; anything
 * else takes a plain yes.
 */
import type { RollbackKind } from './types.js';

export type Confirmation =
  /** Type the environment's name; `why` says which half of the rule asked for it. */
  | { kind: 'type-name'; name: string; why: 'emergency' | 'environment' }
  | { kind: 'yes-no' };

export interface ConfirmedEnvironment {
  name: string;
  confirm: 'type-name' | 'yes-no';
}

export function confirmationFor(env: ConfirmedEnvironment, kind: RollbackKind): Confirmation {
  if (kind === 'emergency') return { kind: 'type-name', name: env.name, why: 'emergency' };
  if (env.confirm === 'type-name') return { kind: 'type-name', name: env.name, why: 'environment' };
  return { kind: 'yes-no' };
}

/** Whether an answer typed at a prompt confirms: the exact name, or y/yes (any case). */
export function isConfirmedBy(c: Confirmation, answer: string): boolean {
  const a = answer.trim();
  return c.kind === 'type-name' ? a === c.name : /^(y|yes)$/i.test(a);
}
