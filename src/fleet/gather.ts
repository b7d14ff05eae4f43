/**
 * What a plan is made from, asked of the members at once: for each candidate move the
 * migration preflight on the guest's host (with the flags the move will use), one link
 * measurement per (source, target) pair (that pair's first live candidate's preflight measures
 * the bandwidth, ~1 s) and the dirty rate of every running candidate (domain.dirtyRateCalc for
 * 1 s, then domain.stats). Every call goes over the member's peer connection — this ferryd's
 * own too, by the network URI it was added with — so a plan sees each host as a migration
 * from it would.
 * @module
 */
import { messageOf } from '../common/errors.js';
import type { FleetGuest, FleetMember } from '../rpc/schema/fleet-plan.js';
import type { PreflightReport } from '../rpc/schema/preflight.js';
import { modeOf } from './planner/fleet-state.js';
import { compatKey, linkKey, type PlannerInput } from './planner/types.js';
import { moveFlags } from './move-flags.js';

/** Calls `method` on a member's ferryd (its peer connection). */
export type MemberCall = (member: FleetMember, method: string, params: unknown) => Promise<unknown>;

export interface CandidateMove {
  guest: FleetGuest;
  from: FleetMember;
  to: FleetMember;
}

/** How long QEMU samples the dirty rate (s), and how often domain.stats is read for it. */
const DIRTY_SECONDS = 1;
const DIRTY_POLL_MS = 250;
const DIRTY_POLLS = 12;

/** The first failing check of a preflight report as 'check: reason', or null when none failed. */
export function failingCheck(report: PreflightReport): string | null {
  const bad = report.checks.find((c) => c.verdict === 'fail');
  return bad === undefined ? null : `${bad.check}: ${bad.reason}`;
}

const UNITS: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

/** The bandwidth line's measurement ('123.4 MiB/s measured over 1.0 s') in MiB/s. */
export function measuredLinkMiBs(report: PreflightReport): number | undefined {
  const line = report.checks.find((c) => c.check === 'bandwidth');
  if (line?.verdict !== 'pass') return undefined;
  const m = /^([\d.]+) (B|KiB|MiB|GiB|TiB)\/s measured/.exec(line.reason);
  const unit = m?.[2] === undefined ? undefined : UNITS[m[2]];
  if (m?.[1] === undefined || unit === undefined) return undefined;
  return (Number(m[1]) * unit) / 1024 ** 2;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Dirty rates (MiB/s) of a host's running guests, measured together; 0 for those that fail. */
async function dirtyRates(
  call: MemberCall,
  host: FleetMember,
  uuids: readonly string[],
): Promise<Map<string, number>> {
  const rates = new Map<string, number>();
  const started = await Promise.all(
    uuids.map((uuid) =>
      call(host, 'domain.dirtyRateCalc', { domain: uuid, seconds: DIRTY_SECONDS }).then(
        () => uuid,
        () => undefined,
      ),
    ),
  );
  const pending = new Set(started.filter((u): u is string => u !== undefined));
  await sleep(DIRTY_SECONDS * 1000);
  for (let i = 0; i < DIRTY_POLLS && pending.size > 0; i++) {
    let records: {
      name: string;
      dirtyrate?: { calcStatus: number; megabytesPerSecond?: number };
    }[];
    try {
      ({ records } = (await call(host, 'domain.stats', {
        domains: [...pending],
        dirtyrate: true,
      })) as { records: typeof records });
    } catch {
      break;
    }
    // domain.stats answers in the order asked.
    [...pending].forEach((uuid, k) => {
      const d = records[k]?.dirtyrate;
      if (d?.calcStatus === 2) {
        rates.set(uuid, d.megabytesPerSecond ?? 0);
        pending.delete(uuid);
      }
    });
    if (pending.size > 0) await sleep(DIRTY_POLL_MS);
  }
  return rates;
}

/**
 * Asks the members everything the planner needs about `candidates`, all at once; never
 * throws for one host or move (a failed preflight makes that move impossible, with why).
 */
export async function gatherPlannerInput(
  members: readonly FleetMember[],
  candidates: readonly CandidateMove[],
  call: MemberCall,
): Promise<PlannerInput> {
  const compat = new Map<string, string | null>();
  const links = new Map<string, number>();
  const linkProbes = new Set<string>();
  const preflights = candidates.map(async ({ guest, from, to }) => {
    const how = modeOf(guest);
    if ('why' in how) return;
    const pair = linkKey(from.capacity.hostname, to.capacity.hostname);
    const measureLink = how.mode === 'live' && !linkProbes.has(pair);
    if (measureLink) linkProbes.add(pair);
    let answer: string | null;
    try {
      const report = (await call(from, 'migration.preflight', {
        domain: guest.uuid,
        destUri: to.uri,
        flags: moveFlags(guest, how.mode),
        measure: { bandwidth: measureLink, dirtyRate: false },
      })) as PreflightReport;
      answer = failingCheck(report);
      const mibs = measureLink ? measuredLinkMiBs(report) : undefined;
      if (mibs !== undefined) links.set(pair, mibs);
    } catch (err) {
      answer = `preflight: ${messageOf(err)}`;
    }
    compat.set(compatKey(guest.uuid, to.capacity.hostname), answer);
  });
  const running = new Map<FleetMember, Set<string>>();
  for (const c of candidates) {
    const how = modeOf(c.guest);
    if ('why' in how || how.mode !== 'live' || c.guest.state !== 'running') continue;
    const set = running.get(c.from) ?? new Set<string>();
    set.add(c.guest.uuid);
    running.set(c.from, set);
  }
  const dirty = new Map<string, number>();
  const measuring = [...running].map(async ([host, uuids]) => {
    for (const [uuid, rate] of await dirtyRates(call, host, [...uuids])) dirty.set(uuid, rate);
  });
  await Promise.all([...preflights, ...measuring]);
  return { hosts: members.map((m) => m.capacity), compat, links, dirty };
}
