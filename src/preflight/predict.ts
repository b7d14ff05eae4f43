/**
 * How long `ferry migrate --live` will take, and whether plain pre-copy converges at all: a
 * model of QEMU 7.2's pre-copy loop plus Ferry's fixed costs. Pure: the inputs are measured
 * elsewhere (link.ts, resident.ts, src/qemu/dirty-rate.ts).
 *
 * QEMU's loop, as modelled: one bulk pass over all guest RAM (a never-touched page is a zero
 * page: scanned, sent as a header; a touched page is sent whole at the stream's rate), then
 * each pass sends what the guest dirtied during the previous one, never more than the set of
 * pages it dirties. QEMU re-reads the dirty bitmap whenever what is left falls under
 * rate × downtime-limit and switches over when it is still under: so the migration converges
 * when a pass's dirtied bytes fit into max downtime at the stream's rate.
 * @module
 */

export interface PredictionInput {
  /** Guest RAM size. */
  memoryBytes: number;
  /** Guest RAM pages QEMU will send as normal pages (touched memory). */
  residentBytes: number;
  /** Measured link, already capped by the user's --bandwidth. */
  bandwidthBytesPerSecond: number;
  /** Measured dirty rate; undefined = not measured. */
  dirtyBytesPerSecond?: number | undefined;
  /**
   * The set of pages the guest keeps dirtying (a pass never resends more); undefined = all
   * resident memory, the safe guess when only the rate was measured.
   */
  dirtyWorkingSetBytes?: number | undefined;
  /** QEMU's downtime-limit (300 default). */
  maxDowntimeMs: number;
  /** --parallel-connections when --parallel. */
  parallelConnections?: number | undefined;
  autoConverge: boolean;
  /** --postcopy given (the switch is possible). */
  postcopy: boolean;
  /**
   * When the switch to post-copy happens (--timeout N --timeout-postcopy: N s); undefined =
   * after the first pass, as --postcopy-after-precopy or `ferry migrate --auto` do.
   */
  postcopyAfterMs?: number | undefined;
  /** The guest's name, for the migrate-setmaxdowntime recommendation ('VM' when unknown). */
  domainName?: string | undefined;
}

export interface Prediction {
  /** Will plain pre-copy converge at this bandwidth and max downtime. */
  converges: boolean;
  /** Expected wall time of `ferry migrate` (undefined when nothing makes it finish). */
  totalMs?: number;
  /** Expected downtime. */
  downtimeMs?: number;
  /** Pre-copy passes, the bulk one included. */
  passes?: number;
  /** Options to add, as the user types them. */
  recommendations: string[];
  /** One line: why. */
  reason: string;
}

const MiB = 1024 * 1024;
const PAGE = 4096;

/**
 * Ferry's fixed costs of one `ferry migrate --live` between two testbed hosts, outside QEMU's
 * own migration time (query-migrate total-time). Measured by bench/predict.bench.ts (two runs
 * of 24 migrations each, 256 MiB guest, 2026-11-27 13:27 and 13:41 UTC; medians of the 16
 * cells): START from the CLI's start to the source ferryd's `migrate` (connect, the
 * destination's prepare: its QEMU started under TCG, capabilities, migrate-incoming), 235 ms
 * (181–587); FINISH from QEMU's completion to the CLI's exit, 1130 ms (1037–1263): the source
 * noticing, migration.finish (the destination resumes the guest and watches it for
 * migration_watch_ms, 1000 by default), the source QEMU stopped.
 */
export const FIXED_START_MS = 235;
export const FIXED_FINISH_MS = 1130;
/**
 * The most one QEMU 7.2 migration thread sends under TCG on this (2-core) machine when the
 * link is not the limit: normal data / job time of the bench's unshaped cells, 134–297 MiB/s
 * (median 236; lower the busier the machine), while the link measured 300–740 MiB/s there.
 * The guest's vCPU thread and the destination's QEMU share the two cores with it.
 */
export const QEMU_STREAM_MAX_BYTES_PER_SECOND = 230 * MiB;
/**
 * Scanning a zero page (never touched by the guest) costs CPU, not link: QEMU checks the
 * page (buffer_is_zero) and sends an 8-byte header plus one byte. Measured: a paused 2 GiB
 * guest (all zero pages) migrated to `exec:cat > /dev/null` in 100–144 ms (3 runs).
 */
export const ZERO_PAGE_SCAN_BYTES_PER_SECOND = 16 * 1024 * MiB;
const ZERO_PAGE_WIRE_BYTES = 9;
/** Each normal page is sent with an 8-byte header. */
const NORMAL_PAGE_WIRE_BYTES = PAGE + 8;
/**
 * Stop-and-copy costs beyond the last dirty pages: device state, the destination loading it,
 * the return-path handshake (QEMU's `downtime` of an idle guest on loopback, ≈ 30 ms).
 */
export const SWITCHOVER_FIXED_MS = 30;
/**
 * What is left when QEMU stops the guest, beyond the pages dirtied: on a link that limits the
 * stream, the end of the pass QEMU had not reached yet, a share of the threshold (bench:
 * downtime of an idle guest 225–277 ms at 64 and 200 mbit with max downtime 300 ms: ≈ 0.65 of
 * it, after SWITCHOVER_FIXED_MS). Where QEMU's CPU is the limit (unshaped) the downtime is
 * that of the dirtied pages alone (10–59 ms measured).
 */
const SWITCHOVER_TAIL = 0.65;
/** QEMU's downtime after a post-copy switch: device state only, then pages on demand. */
export const POSTCOPY_DOWNTIME_MS = 50;
/** Beyond this many passes pre-copy is counted as not converging (QEMU would go on forever). */
export const MAX_PASSES = 60;
/** The largest max downtime worth recommending (beyond it, pause-and-copy in all but name). */
export const MAX_RECOMMENDED_DOWNTIME_MS = 2000;
/** auto-converge is recommended while the dirty rate is below this many times the link. */
export const AUTO_CONVERGE_MAX_RATIO = 2;
/** The chapter: one multifd channel per 10 Gbps of link. */
const BYTES_PER_SECOND_PER_CHANNEL = 10e9 / 8;
/** QEMU's auto-converge defaults (cpu-throttle-initial, -increment) and its trigger. */
const THROTTLE_INITIAL = 0.2;
const THROTTLE_INCREMENT = 0.1;
const THROTTLE_MAX = 0.99;
const THROTTLE_TRIGGER_RATIO = 0.5;

interface Precopy {
  converged: boolean;
  /** Time from `migrate` to switch-over. */
  transferMs: number;
  downtimeMs: number;
  passes: number;
  /** Time of the bulk pass, and the bytes dirtied during it (for the post-copy estimate). */
  firstPassMs: number;
  afterFirstPassBytes: number;
}

interface Stream {
  /** Bytes per second QEMU actually moves. */
  rate: number;
  residentBytes: number;
  zeroBytes: number;
  dirtyRate: number;
  workingSet: number;
  /** The link, not QEMU's CPU, limits the stream. */
  linkLimited: boolean;
}

function streamOf(input: PredictionInput): Stream {
  const residentBytes = Math.min(Math.max(0, input.residentBytes), input.memoryBytes);
  const connections = input.parallelConnections ?? 1;
  const cpuLimit = QEMU_STREAM_MAX_BYTES_PER_SECOND * Math.max(1, connections);
  return {
    rate: Math.min(input.bandwidthBytesPerSecond, cpuLimit),
    residentBytes,
    zeroBytes: input.memoryBytes - residentBytes,
    dirtyRate: Math.max(0, input.dirtyBytesPerSecond ?? 0),
    workingSet: Math.min(input.dirtyWorkingSetBytes ?? residentBytes, input.memoryBytes),
    linkLimited: input.bandwidthBytesPerSecond < cpuLimit,
  };
}

/** QEMU's pre-copy loop, pass by pass, at `downtimeMs`; auto-converge throttles the guest. */
function simulatePrecopy(s: Stream, downtimeMs: number, autoConverge: boolean): Precopy {
  const wire = (bytes: number): number => bytes * (NORMAL_PAGE_WIRE_BYTES / PAGE);
  const bulkMs =
    (1000 * (wire(s.residentBytes) + (s.zeroBytes / PAGE) * ZERO_PAGE_WIRE_BYTES)) / s.rate +
    (1000 * s.zeroBytes) / ZERO_PAGE_SCAN_BYTES_PER_SECOND;
  const threshold = (s.rate * downtimeMs) / 1000;
  let throttle = 0;
  let highCount = 0;
  let passMs = bulkMs;
  let transferMs = bulkMs;
  const afterFirstPassBytes = Math.min((s.dirtyRate * bulkMs) / 1000, s.workingSet);
  for (let passes = 1; passes <= MAX_PASSES; passes++) {
    const dirtied = Math.min((s.dirtyRate * (1 - throttle) * passMs) / 1000, s.workingSet);
    if (dirtied <= threshold) {
      // QEMU stops the guest as soon as what is left fits the threshold: the pages dirtied,
      // and the end of the pass it had not reached yet (SWITCHOVER_TAIL).
      const tail = s.linkLimited ? SWITCHOVER_TAIL * threshold : 0;
      const left = Math.min(threshold, dirtied + tail);
      return {
        converged: true,
        transferMs,
        downtimeMs: (1000 * wire(left)) / s.rate + SWITCHOVER_FIXED_MS,
        passes,
        firstPassMs: bulkMs,
        afterFirstPassBytes,
      };
    }
    // migration_trigger_throttle: dirtied more than half of what was sent, twice in a row.
    if (autoConverge && dirtied > (THROTTLE_TRIGGER_RATIO * s.rate * passMs) / 1000) {
      highCount++;
      if (highCount >= 2) {
        throttle =
          throttle === 0 ? THROTTLE_INITIAL : Math.min(THROTTLE_MAX, throttle + THROTTLE_INCREMENT);
        highCount = 0;
      }
    }
    // The next pass sends what was dirtied, less the part QEMU keeps for the switch-over.
    passMs = (1000 * wire(dirtied)) / s.rate;
    transferMs += passMs;
  }
  return {
    converged: false,
    transferMs,
    downtimeMs: Number.NaN,
    passes: MAX_PASSES,
    firstPassMs: bulkMs,
    afterFirstPassBytes,
  };
}

/** The least max downtime (ms, rounded up to 100) that converges, if one up to the bound does. */
function convergingDowntime(s: Stream, from: number): number | undefined {
  for (let ms = Math.floor(from / 100) * 100 + 100; ms <= MAX_RECOMMENDED_DOWNTIME_MS; ms += 100)
    if (simulatePrecopy(s, ms, false).converged) return ms;
  return undefined;
}

/** The chapter: one connection per 10 Gbps, at least 2 (QEMU's default) when --parallel. */
export function recommendedConnections(bandwidthBytesPerSecond: number): number {
  return Math.max(2, Math.ceil(bandwidthBytesPerSecond / BYTES_PER_SECOND_PER_CHANNEL));
}

function mibs(bytesPerSecond: number): string {
  const v = bytesPerSecond / MiB;
  return `${v >= 10 ? v.toFixed(0) : v.toFixed(1)} MiB/s`;
}

function parallelAdvice(input: PredictionInput): string[] {
  const wanted = recommendedConnections(input.bandwidthBytesPerSecond);
  if (input.parallelConnections !== undefined)
    return input.parallelConnections < wanted
      ? [`--parallel --parallel-connections ${wanted}`]
      : [];
  // One connection keeps up below 10 Gbps (and post-copy cannot use multifd in QEMU 7.2).
  return wanted > 2 && !input.postcopy ? [`--parallel --parallel-connections ${wanted}`] : [];
}

/** Will `ferry migrate --live` converge, how long will it take, and what would help. */
export function predictMigration(input: PredictionInput): Prediction {
  if (!(input.bandwidthBytesPerSecond > 0))
    return {
      converges: false,
      recommendations: [],
      reason: 'no bandwidth between the hosts: nothing can be sent',
    };
  const s = streamOf(input);
  const vm = input.domainName ?? 'VM';
  const parallel = parallelAdvice(input);
  const plain = simulatePrecopy(s, input.maxDowntimeMs, false);
  const total = (p: { transferMs: number; downtimeMs: number }): number =>
    Math.round(FIXED_START_MS + p.transferMs + p.downtimeMs + FIXED_FINISH_MS);
  const dirtyText =
    input.dirtyBytesPerSecond === undefined
      ? 'dirty rate not measured (assumed 0)'
      : `dirty rate ${mibs(s.dirtyRate)}`;
  const unmeasured = input.dirtyBytesPerSecond === undefined ? ['--auto'] : [];
  const streamText = s.linkLimited
    ? `link ${mibs(s.rate)}`
    : `stream ${mibs(s.rate)} (QEMU's limit; link ${mibs(input.bandwidthBytesPerSecond)})`;
  if (plain.converged) {
    return {
      converges: true,
      totalMs: total(plain),
      downtimeMs: Math.round(plain.downtimeMs),
      passes: plain.passes,
      recommendations: [...parallel, ...unmeasured],
      reason: `${dirtyText} < ${streamText}: pre-copy converges in ${plain.passes} pass${plain.passes === 1 ? '' : 'es'}`,
    };
  }

  const ratio = s.dirtyRate / s.rate;
  const why =
    ratio >= 1
      ? `${dirtyText} ≥ ${streamText}: pre-copy will not converge`
      : `${dirtyText} is close to ${streamText}: pre-copy will not converge within ${input.maxDowntimeMs} ms of downtime`;
  const raised = convergingDowntime(s, input.maxDowntimeMs);
  const rescue: string[] = [];
  if (raised !== undefined) rescue.push(`migrate-setmaxdowntime ${vm} ${raised}`);
  else if (ratio < AUTO_CONVERGE_MAX_RATIO && !input.autoConverge) rescue.push('--auto-converge');
  else rescue.push('--postcopy --timeout 30 --timeout-postcopy');
  const recommendations = [...rescue, '--auto', ...parallel];

  // What the options the user already gave make of it.
  if (input.autoConverge) {
    const throttled = simulatePrecopy(s, input.maxDowntimeMs, true);
    if (throttled.converged)
      return {
        converges: false,
        totalMs: total(throttled),
        downtimeMs: Math.round(throttled.downtimeMs),
        passes: throttled.passes,
        recommendations: [],
        reason: `${why}; --auto-converge throttles the guest until it does (${throttled.passes} passes)`,
      };
  }
  if (input.postcopy) {
    const switchMs = Math.max(input.postcopyAfterMs ?? plain.firstPassMs, plain.firstPassMs);
    const left = Math.min(
      plain.afterFirstPassBytes + (s.dirtyRate * (switchMs - plain.firstPassMs)) / 1000,
      s.workingSet,
    );
    return {
      converges: false,
      totalMs: Math.round(
        FIXED_START_MS + switchMs + POSTCOPY_DOWNTIME_MS + (1000 * left) / s.rate + FIXED_FINISH_MS,
      ),
      downtimeMs: POSTCOPY_DOWNTIME_MS,
      passes: 1,
      recommendations: [],
      reason: `${why}; post-copy finishes it after ${(switchMs / 1000).toFixed(1)} s`,
    };
  }
  return { converges: false, recommendations, reason: why };
}
