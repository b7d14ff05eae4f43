/**
 * From a draft (placements) to the Plan shown and run: each move's predicted time and
 * downtime (the preflight's model over the measured link and dirty rate), the start order,
 * the parallelism and the whole plan's predicted time, and each host's load before → after.
 * @module
 */
import { predictMigration } from '../../preflight/predict.js';
import type { Plan, PlannedMove } from '../../rpc/schema/fleet-plan.js';
import { FleetState } from './fleet-state.js';
import { CPUS_PER_STREAM, makespanMs, parallelism, startOrder, streamLimit } from './order.js';
import { linkKey, type Draft, type PlannerInput } from './types.js';

/** An offline move copies a definition: about the fixed cost of a migration's two calls. */
export const OFFLINE_MOVE_MS = 1500;
/** QEMU's default downtime limit, which the automatic policy starts from. */
export const DEFAULT_MAX_DOWNTIME_MS = 300;
/** A link no preflight measured (should not happen for a live move): a modest guess. */
export const UNMEASURED_LINK_MIBS = 100;

const MiB = 1024 * 1024;

function predictLive(
  memoryKiB: number,
  linkMiBs: number,
  dirtyMiBs: number,
): { ms: number; downtimeMs: number } {
  const memoryBytes = memoryKiB * 1024;
  const p = predictMigration({
    memoryBytes,
    residentBytes: memoryBytes,
    bandwidthBytesPerSecond: linkMiBs * MiB,
    dirtyBytesPerSecond: dirtyMiBs * MiB,
    maxDowntimeMs: DEFAULT_MAX_DOWNTIME_MS,
    autoConverge: true,
    postcopy: false,
  });
  // Without a prediction (no convergence even throttled): one pass and a half, as a guess.
  const ms = p.totalMs ?? Math.round(((1.5 * memoryBytes) / (linkMiBs * MiB)) * 1000);
  return { ms: Math.round(ms), downtimeMs: Math.round(p.downtimeMs ?? DEFAULT_MAX_DOWNTIME_MS) };
}

/**
 * How many memory streams each source host of a live move carries at once (streamLimit of
 * its CPUs), in words; undefined without live moves. The makespan needs no change for it:
 * live moves share the link, so running them one after another takes as long.
 */
function streamsOf(
  fleet: FleetState,
  live: readonly { from: string }[],
): { reason: string } | undefined {
  const sources = [...new Set(live.map((m) => m.from))].sort();
  if (sources.length === 0) return undefined;
  const each = sources.map((name) => {
    const cpus = fleet.host(name).cpus;
    return { name, cpus, streams: streamLimit(cpus) };
  });
  const words = each.map((h) => `${h.name} (${h.cpus} CPUs) ${h.streams}`).join(', ');
  return {
    reason: `memory streams at once per source host, one per ${CPUS_PER_STREAM} CPUs: ${words}`,
  };
}

export function finishPlan(
  input: PlannerInput,
  draft: Draft,
  meta: { id: string; createdAt: string },
): Plan {
  const before = FleetState.from(input.hosts);
  const after = before.clone();
  for (const m of draft.moves) after.move(m.guest, m.from, m.to);
  const measured = [...input.links.values()];
  const unplaced = startOrder(
    draft.moves.map((m) => {
      const live = m.mode === 'live';
      const dirty = live ? (input.dirty.get(m.guest.uuid) ?? 0) : 0;
      const link =
        input.links.get(linkKey(m.from, m.to)) ??
        (measured.length > 0 ? Math.min(...measured) : UNMEASURED_LINK_MIBS);
      const predicted = live
        ? predictLive(m.guest.memoryKiB, link, dirty)
        : { ms: OFFLINE_MOVE_MS, downtimeMs: 0 };
      return {
        guest: m.guest.name,
        uuid: m.guest.uuid,
        from: m.from,
        to: m.to,
        mode: m.mode,
        memoryKiB: m.guest.memoryKiB,
        dirtyRateMiBs: dirty,
        predictedMs: predicted.ms,
        predictedDowntimeMs: predicted.downtimeMs,
        reasons: m.reasons,
        link,
        offline: !live,
      };
    }),
  );
  const live = unplaced.filter((m) => m.mode === 'live');
  const { parallel, reason } = parallelism(
    live.length === 0 ? undefined : Math.min(...live.map((m) => m.link)),
    Math.max(0, ...live.map((m) => m.dirtyRateMiBs)),
    unplaced.length,
  );
  const streams = streamsOf(before, live);
  const moves: PlannedMove[] = unplaced.map(({ link: _link, offline: _offline, ...m }, i) => ({
    ...m,
    order: i + 1,
  }));
  return {
    id: meta.id,
    kind: draft.kind,
    title: draft.title,
    createdAt: meta.createdAt,
    moves,
    unmovable: draft.unmovable,
    hosts: [...before.hosts.values()].map((h) => {
      const a = after.host(h.name);
      return {
        host: h.name,
        memoryKiB: h.offeredKiB,
        usedBeforeKiB: Math.round(h.usedKiB),
        usedAfterKiB: Math.round(a.usedKiB),
        vcpusBefore: h.vcpus,
        vcpusAfter: a.vcpus,
        cpus: h.cpus,
      };
    }),
    parallel,
    parallelReason: streams === undefined ? reason : `${reason}; ${streams.reason}`,
    predictedMs: makespanMs(
      moves.map((m) => ({ ms: m.predictedMs, live: m.mode === 'live' })),
      parallel,
    ),
    summary: draft.summary,
  };
}
