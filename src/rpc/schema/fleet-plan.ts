/**
 * Schemas of fleet operations (issue #8): each host's capacity, plans that move guests across
 * the fleet (evacuate, balance, consolidate, undo an evacuation), running a plan with one
 * progress view for all its moves, and the fleet's common CPU baseline. The local ferryd
 * coordinates: it gathers every member's capacity over peer connections, plans, and runs the
 * moves by asking each source host's ferryd to migrate (peer to peer, as `ferry migrate`).
 * @module
 */
import { z } from 'zod';

const Count = z.number().int().min(0);

/** A guest as a host reports it for planning. */
export const FleetGuest = z.strictObject({
  name: z.string(),
  uuid: z.string(),
  /** virsh's state word: 'running', 'paused', 'shut off', … */
  state: z.string(),
  persistent: z.boolean(),
  vcpus: Count,
  memoryKiB: Count,
  /** A migration or other job holds the guest: plans leave it alone. */
  busy: z.boolean(),
});
export type FleetGuest = z.output<typeof FleetGuest>;

/** `host.capacity`: what a host offers guests and what it runs now. */
export const HostCapacity = z.strictObject({
  hostname: z.string(),
  hostUuid: z.string(),
  /** Online host CPUs. */
  cpus: Count,
  /** 1-minute load average of the host. */
  load1: z.number().min(0),
  /**
   * Memory this host offers guests: MemTotal, or ferryd.conf `host_memory_mib` when set
   * (reserved memory, or several test hosts sharing one machine).
   */
  memoryKiB: Count,
  /** memoryKiB minus what its active guests use (QEMU's overhead included), never below 0. */
  freeMemoryKiB: Count,
  /** The host CPU's model as `ferry capabilities` names it (cpu_limit applied). */
  cpuModel: z.string(),
  guests: z.array(FleetGuest),
});
export type HostCapacity = z.output<typeof HostCapacity>;

/** A fleet member as plans see it: its id in the fleet (fleet.hosts) and its capacity. */
export const FleetMember = z.strictObject({
  id: z.string(),
  /** The URI other members reach it by (never qemu:///system). */
  uri: z.string(),
  capacity: HostCapacity,
});
export type FleetMember = z.output<typeof FleetMember>;

export const PlanKind = z.enum(['evacuate', 'balance', 'consolidate', 'undo']);
export type PlanKind = z.output<typeof PlanKind>;

/** One migration of a plan. */
export const PlannedMove = z.strictObject({
  /** 1-based position in the order the moves start. */
  order: z.number().int().min(1),
  guest: z.string(),
  uuid: z.string(),
  /** Host names (capacity.hostname) of source and target. */
  from: z.string(),
  to: z.string(),
  mode: z.enum(['live', 'offline']),
  memoryKiB: Count,
  /** The guest's dirty rate measured for the plan (MiB/s); 0 when shut off. */
  dirtyRateMiBs: z.number().min(0),
  /** From the move's preflight prediction; offline moves ~ the definition copy. */
  predictedMs: Count,
  predictedDowntimeMs: Count,
  /** Why this target, in words a person checks: fits, spreads, what the others lacked. */
  reasons: z.array(z.string()),
});
export type PlannedMove = z.output<typeof PlannedMove>;

/** A guest the plan would move but cannot, and why (the failing preflight check). */
export const Unmovable = z.strictObject({
  guest: z.string(),
  host: z.string(),
  reason: z.string(),
});

/** Per host, before and after the plan. */
export const HostLoad = z.strictObject({
  host: z.string(),
  memoryKiB: Count,
  usedBeforeKiB: Count,
  usedAfterKiB: Count,
  vcpusBefore: Count,
  vcpusAfter: Count,
  cpus: Count,
});

export const Plan = z.strictObject({
  /** Refers to this plan in fleet.run; plans are kept in memory for 30 minutes. */
  id: z.string(),
  kind: PlanKind,
  /** The one-line title: `evacuate h1`, `balance (at most 3 moves)`, `consolidate (keep 2)`. */
  title: z.string(),
  createdAt: z.string(),
  moves: z.array(PlannedMove),
  unmovable: z.array(Unmovable),
  hosts: z.array(HostLoad),
  /** Moves that run at once, and why that many (link bandwidth, dirty rates). */
  parallel: z.number().int().min(1),
  parallelReason: z.string(),
  /** Predicted wall time of the whole plan at that parallelism. */
  predictedMs: Count,
  /** Plan-level statements: the spread before/after, hosts emptied, the saving … */
  summary: z.array(z.string()),
});
export type Plan = z.output<typeof Plan>;

export const PlanParams = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('evacuate'),
    /** Host name, fleet id or URI of the host to empty. */
    host: z.string().min(1),
    /** Only these targets (names, ids or URIs); default every other reachable member. */
    to: z.array(z.string().min(1)).optional(),
  }),
  z.strictObject({
    kind: z.literal('balance'),
    maxMoves: z.number().int().min(1).max(1000).optional(),
  }),
  z.strictObject({
    kind: z.literal('consolidate'),
    /** Keep at least this many hosts in use (default 1). */
    keep: z.number().int().min(1).max(1000).optional(),
  }),
  z.strictObject({
    kind: z.literal('undo'),
    /** The host evacuated with `--return`: its guests come back. */
    host: z.string().min(1),
  }),
]);
export type PlanParams = z.input<typeof PlanParams>;

export const MoveState = z.enum([
  'pending',
  'running',
  'completed',
  'failed',
  /** Not started: the plan stopped (a failure without keepGoing, or fleet.stop). */
  'skipped',
]);

/** `fleet.progress` notification, and fleet.run's result (with finished = true). */
export const PlanProgress = z.strictObject({
  planId: z.string(),
  moves: z.array(
    z.strictObject({
      order: z.number().int().min(1),
      guest: z.string(),
      from: z.string(),
      to: z.string(),
      state: MoveState,
      /** 0–100, from the migration's own job.progress. */
      percent: z.number().min(0).max(100),
      etaMs: Count.optional(),
      /** The migration's downtime once completed. */
      downtimeMs: Count.optional(),
      elapsedMs: Count.optional(),
      error: z.string().optional(),
    }),
  ),
  overallPercent: z.number().min(0).max(100),
  overallEtaMs: Count.optional(),
  elapsedMs: Count,
  /** Set once no move runs and none will start. */
  finished: z.boolean(),
  /** Why it stopped early: the first failure, or fleet.stop. */
  stoppedBecause: z.string().optional(),
});
export type PlanProgress = z.output<typeof PlanProgress>;

export const FLEET_PLAN_METHODS = {
  'host.capacity': {
    doc: "This host's CPUs, load, memory offered to guests and free, CPU model, and its guests (for fleet plans).",
    params: z.strictObject({}),
    result: HostCapacity,
  },
  'fleet.members': {
    doc: 'Every reachable fleet member with its capacity (this host included when it was added by a network URI), and the unreachable ones with why.',
    params: z.strictObject({}),
    result: z.strictObject({
      members: z.array(FleetMember),
      unreachable: z.array(z.strictObject({ id: z.string(), uri: z.string(), error: z.string() })),
    }),
  },
  'fleet.plan': {
    doc: 'Plan an evacuation, a balance, a consolidation or the undo of an evacuation; changes nothing. Each candidate move is checked by the migration preflight; link bandwidth and dirty rates are measured briefly.',
    params: PlanParams,
    result: Plan,
  },
  'fleet.run': {
    doc: 'Carry out a plan made by fleet.plan: moves run with the automatic policy, at most plan.parallel at once; `fleet.progress` notifications come to this connection; stops scheduling at the first failure unless keepGoing, and when this connection closes or fleet.stop is called (moves under way finish or roll back). With `record`, an evacuation remembers where each guest came from (for kind undo). Resolves when the plan has finished.',
    params: z.strictObject({
      planId: z.string().min(1),
      keepGoing: z.boolean().default(false),
      record: z.boolean().default(false),
    }),
    result: PlanProgress,
  },
  'fleet.stop': {
    doc: 'Stop scheduling the moves of a running plan; moves under way finish or roll back.',
    params: z.strictObject({ planId: z.string().min(1) }),
    result: z.strictObject({ planId: z.string(), running: Count }),
  },
  'fleet.cpuBaseline': {
    doc: "The CPU every fleet member can run (the baseline of their host-model CPUs, as hypervisor-cpu-baseline), a host × host matrix of which host's host-model CPU another cannot run and the features missing, and the guests whose CPU some member cannot run. With `apply`, those persistent guests get the baseline CPU in their definition (it takes effect at their next start).",
    params: z.strictObject({ apply: z.array(z.string().min(1)).optional() }),
    result: z.strictObject({
      /** The baseline as `<cpu mode='custom' match='exact'>…</cpu>`. */
      cpuXml: z.string(),
      model: z.string(),
      hosts: z.array(z.strictObject({ host: z.string(), model: z.string() })),
      /** One entry per ordered pair of different hosts. */
      matrix: z.array(
        z.strictObject({
          from: z.string(),
          to: z.string(),
          ok: z.boolean(),
          missing: z.array(z.string()),
        }),
      ),
      /** Guests some member cannot run, and where not with what missing. */
      guests: z.array(
        z.strictObject({
          guest: z.string(),
          host: z.string(),
          cannotRunOn: z.array(z.strictObject({ host: z.string(), reason: z.string() })),
        }),
      ),
      applied: z.array(z.strictObject({ guest: z.string(), host: z.string() })),
      /** Fleet hosts that could not be asked (their URI): the baseline leaves them out. */
      unreachable: z.array(z.strictObject({ host: z.string(), error: z.string() })).optional(),
    }),
  },
} as const;

export type FleetPlanMethodName = keyof typeof FLEET_PLAN_METHODS;
