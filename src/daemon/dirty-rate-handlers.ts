/**
 * The dirty rate RPC methods (domain.dirtyRateCalc, domain.stats): QEMU's page-sampling
 * measurement of a running guest, started and read the way libvirt drives it.
 * @module
 */
import { FerryError } from '../common/errors.js';
import type { DomainManager, DomainRecord } from '../host/index.js';
import { acceleratorFor } from '../qemu/index.js';
import {
  queryDirtyRate,
  startDirtyRateCalc,
  unsupportedDirtyRateMode,
  type DirtyRateResult,
} from '../qemu/dirty-rate.js';
import type { Handlers } from '../rpc/index.js';
import type { Methods } from '../rpc/methods.js';
import type {
  DirtyRateMethodName,
  DirtyRateStats,
  DomainStatsRecord,
} from '../rpc/schema/dirty-rate.js';
import type { ConnectionState } from './handlers.js';

type DirtyRateHandlers = Pick<Handlers<Methods, ConnectionState>, DirtyRateMethodName>;

/** QEMU's bounds for calc-time, which libvirt checks before asking. */
const MIN_SECONDS = 1;
const MAX_SECONDS = 60;

/** libvirt's dirtyrate.* group from QEMU's query-dirty-rate (zeros before any measurement). */
export function dirtyRateStatsFrom(r: DirtyRateResult): DirtyRateStats {
  return {
    calcStatus: r.status,
    calcStartTime: r.startTime ?? 0,
    calcPeriod: r.period ?? 0,
    calcMode: r.mode ?? 'page-sampling',
    ...(r.status === 2 && r.megabytesPerSecond !== undefined
      ? { megabytesPerSecond: r.megabytesPerSecond }
      : {}),
  };
}

/** The domain's stats record; a guest that stops while being asked has none. */
async function recordOf(rec: DomainRecord, dirtyrate: boolean): Promise<DomainStatsRecord> {
  const proc = rec.proc;
  if (proc === undefined) return { name: rec.def.name, active: false };
  const out: DomainStatsRecord = { name: rec.def.name, active: true };
  if (dirtyrate) {
    try {
      out.dirtyrate = dirtyRateStatsFrom(await queryDirtyRate(proc.qmp));
    } catch {
      // QEMU went away between the listing and the query: libvirt skips the group too.
    }
  }
  return out;
}

export function createDirtyRateHandlers(domains: DomainManager): DirtyRateHandlers {
  return {
    'domain.dirtyRateCalc': async (p) => {
      const rec = domains.get(p.domain);
      if (p.seconds < MIN_SECONDS || p.seconds > MAX_SECONDS)
        throw new FerryError(
          'CONFIG_UNSUPPORTED',
          `unsupported configuration: seconds=${p.seconds} is invalid, please choose value within [${MIN_SECONDS}, ${MAX_SECONDS}]`,
        );
      const proc = rec.proc;
      if (proc === undefined)
        throw new FerryError(
          'OPERATION_INVALID',
          'Requested operation is not valid: domain is not running',
        );
      const why = unsupportedDirtyRateMode(p.mode, acceleratorFor(rec.liveDef ?? rec.def));
      if (why !== undefined) throw new FerryError('NO_SUPPORT', `Operation not supported: ${why}`);
      if (rec.job !== undefined)
        throw new FerryError(
          'OPERATION_INVALID',
          `Requested operation is not valid: a migration job is running on domain '${rec.def.name}' and a measurement would disturb its dirty page tracking; the job's own dirty rate is in 'ferry domjobinfo ${rec.def.name}'`,
        );
      // A measurement already running is refused by QEMU itself ("the dirty rate is already
      // being measured"), as libvirt passes it on.
      await startDirtyRateCalc(proc.qmp, p.seconds, p.mode);
      return { name: rec.def.name };
    },
    'domain.stats': async (p) => {
      const recs =
        p.domains.length > 0
          ? p.domains.map((ref) => domains.get(ref))
          : domains
              .list({ active: p.active, inactive: p.inactive })
              .map((d) => domains.get(d.uuid));
      return { records: await Promise.all(recs.map((r) => recordOf(r, p.dirtyrate))) };
    },
  };
}
