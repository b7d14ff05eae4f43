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
 * Ferry's fixed costs of one `ferry migrate --live` between two testbed hosts, outside the
 * memory transfer: CLI start and connect, the destination's prepare (QEMU start under TCG,
 * capabilities, migrate-incoming), and finish (destination resumes, the source stops).
 * Measured by bench/predict.bench.ts on an idle 128 MiB guest, unshaped: wall time minus
 * the job's own time (median of 5: 1.1 s connect+prepare, 0.4 s finish).
 */
export const FIXED_START_MS = 1100;
export const FIXED_FINISH_MS = 400;
/**
 * The most one QEMU 7.2 migration thread sends under TCG on this machine when the link is
 * not the limit (loopback/veth, --bandwidth unlimited): measured by the bench's unshaped
 * runs as data processed / job time on a guest with 256 MiB written (≈ 600 MiB/s).
 */
export const QEMU_STREAM_MAX_BYTES_PER_SECOND = 600 * MiB;
/**
 * Scanning a zero page (never touched by the guest) costs CPU, not link: QEMU checks the
 * page (buffer_is_zero) and sends an 8-byte header plus one byte. Measured: an idle 1 GiB
 * guest's bulk pass, unshaped, minus its resident pages at the stream rate (≈ 4 GiB/s).
 */
export const ZERO_PAGE_SCAN_BYTES_PER_SECOND = 4096 * MiB;
const ZERO_PAGE_WIRE_BYTES = 9;
/** Each normal page is sent with an 8-byte header. */
const NORMAL_PAGE_WIRE_BYTES = PAGE + 8;
/**
 * Stop-and-copy costs beyond the last dirty pages: device state, the destination loading it,
 * the return-path handshake (QEMU's `downtime` of an idle guest on loopback, ≈ 30 ms).
 */
export const SWITCHOVER_FIXED_MS = 30;
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
}

function streamOf(input: PredictionInput): Stream {
  const residentBytes = Math.min(Math.max(0, input.residentBytes), input.memoryBytes);
  const connections = input.parallelConnections ?? 1;
  return {
    rate: Math.min(
      input.bandwidthBytesPerSecond,
      QEMU_STREAM_MAX_BYTES_PER_SECOND * Math.max(1, connections),
    ),
    residentBytes,
    zeroBytes: input.memoryBytes - residentBytes,
    dirtyRate: Math.max(0, input.dirtyBytesPerSecond ?? 0),
    workingSet: Math.min(input.dirtyWorkingSetBytes ?? residentBytes, input.memoryBytes),
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
      return {
        converged: true,
        transferMs,
        downtimeMs: (1000 * wire(dirtied)) / s.rate + SWITCHOVER_FIXED_MS,
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
  if (plain.converged) {
    return {
      converges: true,
      totalMs: total(plain),
      downtimeMs: Math.round(plain.downtimeMs),
      passes: plain.passes,
      recommendations: [...parallel, ...unmeasured],
      reason: `${dirtyText} < link ${mibs(s.rate)}: pre-copy converges in ${plain.passes} pass${plain.passes === 1 ? '' : 'es'}`,
    };
  }

  const ratio = s.dirtyRate / s.rate;
  const why =
    ratio >= 1
      ? `${dirtyText} ≥ link ${mibs(s.rate)}: pre-copy will not converge`
      : `${dirtyText} is close to link ${mibs(s.rate)}: pre-copy will not converge within ${input.maxDowntimeMs} ms of downtime`;
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
