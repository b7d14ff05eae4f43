/**
 * Domain states and reasons, spelled as virsh prints them (`domstate --reason`).
 * @module
 */

export const DOMAIN_STATES = [
  'no state',
  'running',
  'blocked',
  'paused',
  'in shutdown',
  'shut off',
  'crashed',
  'pmsuspended',
] as const;
export type DomainState = (typeof DOMAIN_STATES)[number];

/** The reasons virsh prints in parentheses after each state. */
export const STATE_REASONS = {
  'no state': ['unknown'],
  running: [
    'unknown',
    'booted',
    'migrated',
    'restored',
    'from snapshot',
    'unpaused',
    'migration canceled',
    'save canceled',
    'event wakeup',
    'crashed',
    'post-copy',
  ],
  blocked: ['unknown'],
  paused: [
    'unknown',
    'user',
    'migrating',
    'saving',
    'dumping',
    'I/O error',
    'watchdog',
    'from snapshot',
    'shutting down',
    'creating snapshot',
    'crashed',
    'starting up',
    'post-copy',
    'post-copy failed',
  ],
  'in shutdown': ['unknown', 'user'],
  'shut off': [
    'unknown',
    'shutdown',
    'destroyed',
    'crashed',
    'migrated',
    'saved',
    'failed',
    'from snapshot',
    'daemon',
  ],
  crashed: ['unknown', 'panicked'],
  pmsuspended: ['unknown'],
} as const satisfies Record<DomainState, readonly string[]>;

export type StateReason<S extends DomainState = DomainState> = (typeof STATE_REASONS)[S][number];

/** True for the states in which a QEMU process exists for the domain. */
export function isActiveState(state: DomainState): boolean {
  return (
    state === 'running' || state === 'paused' || state === 'in shutdown' || state === 'blocked'
  );
}
