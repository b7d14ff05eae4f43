/**
 * The storage check, with the migration's own proofs (src/migration/storage): on the source,
 * which disks would be copied and markers proving the shared ones; on the destination, the
 * markers read back, copies onto itself refused, and room for the copies. Nothing lasting
 * changes: the source removes its markers whatever the answer, and no target is created.
 * @module
 */
import { existsSync } from 'node:fs';
import { messageOf } from '../common/errors.js';
import type { DomainDef } from '../domain/def.js';
import type { DestinationPreflightParams, PreflightVerdict } from '../rpc/schema/preflight.js';
import type { MigrateFlags } from '../rpc/schema/migration.js';
import type { z } from 'zod';
import { checkRequests, targetsOf } from '../migration/storage/destination-storage.js';
import { planDisks } from '../migration/storage/plan.js';
import { checkNotShared, checkSharedDisks, probeSharedDisks } from '../migration/storage/probe.js';
import { describeCopies, SourceStorage } from '../migration/storage/source-storage.js';
import { checkTargets } from '../migration/storage/targets.js';
import { formatBytes } from './format-bytes.js';

type Outcome = { verdict: PreflightVerdict; reason: string };
export type PreflightDisks = NonNullable<z.input<typeof DestinationPreflightParams>['disks']>;

/** The source's half: what to send, and the cleanup that removes its markers. */
export interface SourceDiskProofs {
  disks: PreflightDisks | undefined;
  /** Plan summary for the pass line ("2 disks shared, 1 copied"). */
  summary: string;
  cleanup(): Promise<void>;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Plans and proves the disks as the migration would (`def` with volumes resolved); throws as
 * the migration's begin phase would (e.g. an unsafe cache mode, a running guest copied offline).
 */
export async function proveSourceDisks(
  def: DomainDef,
  flags: MigrateFlags,
  running: boolean,
): Promise<SourceDiskProofs> {
  if (!flags.offline) {
    const storage = await SourceStorage.begin(def, flags);
    const { probes, copy, copyProbes } = storage.prepareParams();
    return {
      disks: { probes, copy, copyProbes },
      summary: `${plural(storage.plan.shared.length, 'disk')} shared, ${storage.plan.copy.length} copied`,
      cleanup: () => storage.probed(),
    };
  }
  if (!flags.copyStorageAll) {
    const n = def.devices.disks.filter((d) => d.device === 'disk').length;
    return {
      disks: undefined,
      summary: `${plural(n, 'disk')}, none copied (offline)`,
      cleanup: () => Promise.resolve(),
    };
  }
  if (running)
    throw new Error(
      `domain '${def.name}' is running: its disks would change while copied (shut it down first, or migrate it live with --copy-storage-all)`,
    );
  const plan = planDisks(def, flags);
  const copy = await describeCopies(plan.copy, 'full');
  const markers = await probeSharedDisks(plan.copy);
  return {
    disks: { probes: [], copy, copyProbes: markers.probes },
    summary: `${plural(plan.copy.length, 'disk')} copied (offline)`,
    cleanup: markers.cleanup,
  };
}

/**
 * The destination's half, for `def` with its volume disks resolved here: the proofs read
 * back, and room for what would be copied. Offline without copies, disks missing here warn
 * (as the migration itself warns).
 */
export async function checkStorageHere(
  def: DomainDef,
  disks: PreflightDisks | undefined,
  offline: boolean,
): Promise<Outcome> {
  if (disks === undefined) {
    const missing = def.devices.disks.filter(
      (d) => d.device === 'disk' && d.source !== undefined && !existsSync(d.source),
    );
    if (missing.length > 0 && offline)
      return {
        verdict: 'warn',
        reason: `${missing.map((d) => `disk '${d.target.dev}' (${d.source ?? ''})`).join(', ')} not found on the destination: copy it there before starting the guest (or use --copy-storage-all)`,
      };
    return { verdict: 'pass', reason: offline ? 'no disks to copy' : 'no disks' };
  }
  const request = { probes: disks.probes, copy: disks.copy, copyProbes: disks.copyProbes ?? [] };
  try {
    checkRequests(def, request);
    const targets = targetsOf(def, request.copy);
    await checkSharedDisks(request.probes);
    const samePath = request.copyProbes.filter(
      (p) => p.kind === 'marker' && targets.some((t) => t.dev === p.dev && t.path === p.path),
    );
    checkRequests(def, { ...request, probes: samePath });
    await checkNotShared(samePath);
    // Room, pre-created images, backing files: the very checks prepare makes, creating nothing.
    await checkTargets(targets);
    const shared = request.probes.length;
    const copied = targets.length;
    return {
      verdict: 'pass',
      reason:
        [
          shared > 0 ? `${plural(shared, 'shared disk')} proven the same image on both hosts` : '',
          copied > 0
            ? `room for ${plural(copied, 'copied disk')} (${formatBytes(targets.reduce((s, t) => s + t.allocated, 0))})`
            : '',
        ]
          .filter((s) => s !== '')
          .join('; ') || 'no disks',
    };
  } catch (err) {
    return { verdict: 'fail', reason: messageOf(err) };
  }
}
