/**
 * The migration flags of a plan's move, as the fleet contract fixes them: a running or paused
 * guest moves live with the automatic policy; a persistent guest moves for good (defined on
 * the target, undefined on the source) and a transient one stays transient; a persistent
 * shut-off guest moves offline (its definition only).
 * @module
 */
import { MigrateFlags } from '../rpc/schema/migration.js';

export function moveFlags(mode: 'live' | 'offline', persistent: boolean): MigrateFlags {
  return MigrateFlags.parse(
    mode === 'offline'
      ? { offline: true, persistent: true, undefineSource: true }
      : { live: true, auto: true, persistent, undefineSource: persistent },
  );
}
