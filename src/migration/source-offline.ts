/**
 * An offline migration on the source: the definition moves, and with --copy-storage-all the
 * disks of the shut-off guest are copied first (storage/offline-copy.ts) and checked byte for
 * byte; the destination stores the definition only after that.
 * @module
 */
import { FerryError, messageOf } from '../common/errors.js';
import { parseConnectionUri } from '../common/uri.js';
import type { DomainDef } from '../domain/def.js';
import { formatDomainXml } from '../domain/xml/index.js';
import type { DomainRecord } from '../host/index.js';
import type { JobStats, MigrateFlags, PrepareResult } from '../rpc/schema/migration.js';
import type { PeerClient } from './peer.js';
import type { SourceOptions } from './source.js';
import { failedJob } from './stats.js';
import { copyDisksOffline } from './storage/offline-copy.js';
import { planDisks } from './storage/plan.js';
import { probeSharedDisks } from './storage/probe.js';
import { describeCopies, type PrepareDisks } from './storage/source-storage.js';

export async function offline(
  opts: SourceOptions,
  rec: DomainRecord,
  def: DomainDef,
  dest: { peer: PeerClient; uri: string },
  flags: MigrateFlags,
  onProgress: (stats: JobStats) => void,
): Promise<{ name: string; stats: JobStats; warnings?: string[] }> {
  const { peer } = dest;
  const destHost = parseConnectionUri(dest.uri).host;
  const started = Date.now();
  const copy = flags.copyStorageAll ? await offlineCopyPlan(opts, rec, def, flags) : undefined;
  let prepared: PrepareResult;
  try {
    prepared = await peer.call('migration.prepare', {
      xml: formatDomainXml(def),
      sourceHostUuid: opts.hostUuid,
      offline: true,
      persistent: true,
      capabilities: [],
      parameters: {},
      ...(copy === undefined ? {} : { disks: copy.params }),
      ...(flags.listenAddress === undefined ? {} : { listenAddress: flags.listenAddress }),
      ...(destHost === undefined ? {} : { destHost }),
    });
  } finally {
    await copy?.cleanup();
  }
  let stats: JobStats = {
    type: 'Completed',
    operation: 'Outgoing migration',
    status: 'completed',
  };
  if (copy !== undefined && copy.params.copy.length > 0) {
    const { jobId } = prepared;
    try {
      if (prepared.nbd === undefined)
        throw new FerryError(
          'OPERATION_FAILED',
          'The destination did not export the disks to copy',
        );
      const sample = (processed: number, total: number): JobStats => ({
        type: 'Unbounded',
        operation: 'Outgoing migration',
        status: 'active',
        timeElapsedMs: Date.now() - started,
        dataProcessed: processed,
        dataRemaining: total - processed,
        dataTotal: total,
        diskProcessed: processed,
        diskRemaining: total - processed,
        diskTotal: total,
        diskBandwidth: Math.round((processed * 1000) / Math.max(1, Date.now() - started)),
      });
      let last = sample(0, 0);
      await copyDisksOffline(copy.params.copy, prepared.nbd, (processed, total) => {
        last = sample(processed, total);
        onProgress(last);
      });
      stats = { ...last, type: 'Completed', status: 'completed' };
    } catch (err) {
      await peer
        .call('migration.finish', { jobId, success: false, suspend: false, persistent: true })
        .catch(() => undefined);
      rec.lastJob = { ...failedJob('Outgoing migration', messageOf(err)) };
      throw err;
    }
  }
  await peer.call('migration.finish', {
    jobId: prepared.jobId,
    success: true,
    suspend: false,
    persistent: true,
  });
  stats = { ...stats, timeElapsedMs: Date.now() - started };
  rec.lastJob = stats;
  if (flags.undefineSource) opts.domains.undefine(rec.def.uuid);
  return {
    name: def.name,
    stats,
    ...(prepared.warnings === undefined ? {} : { warnings: prepared.warnings }),
  };
}

/** What an offline --copy-storage-all copies; refused while the guest runs (its disks change). */
async function offlineCopyPlan(
  opts: SourceOptions,
  rec: DomainRecord,
  def: DomainDef,
  flags: MigrateFlags,
): Promise<{ params: PrepareDisks; cleanup: () => Promise<void> }> {
  if (rec.proc !== undefined)
    throw new FerryError(
      'OPERATION_INVALID',
      `Requested operation is not valid: domain '${rec.def.name}' is running: its disks would change while copied (shut it down first, or migrate it live with --copy-storage-all)`,
    );
  const plan = planDisks(await opts.domains.resolveDisks(def), flags);
  const copy = await describeCopies(plan.copy, 'full');
  const markers = await probeSharedDisks(plan.copy);
  return { params: { probes: [], copy, copyProbes: markers.probes }, cleanup: markers.cleanup };
}
