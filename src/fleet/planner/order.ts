/**
 * The order moves start in, how many run at once, and how long the whole plan takes. Small,
 * quiet guests go first (memory × (1 + dirty rate)): they finish fast and free their share
 * of the link. Parallelism follows the link: as many streams as it carries at twice the
 * busiest guest's dirty rate (at least 8 MiB/s each), between 1 and 4. Of the moves under way,
 * only so many per source host copy memory at once (streamLimit): the others run their
 * preflight, wait for a slot or watch their guest on the destination meanwhile.
 * @module
 */

export const MAX_PARALLEL = 4;
/** The least link share a stream is given (MiB/s), so a quiet fleet does not run 50 at once. */
export const MIN_STREAM_MIBS = 8;

/**
 * A stream's switch-over needs the source QEMU's migration thread and the destination's
 * loading thread to run at once beside the guests' vCPUs; starved of CPU it overruns its
 * downtime limit (bench/README.md, fleet evacuation: two streams off a 2-CPU host put 3 of
 * 30 downtimes over 300 ms, one stream none of 30, at about the same speed).
 */
export const CPUS_PER_STREAM = 2;

/** How many memory streams a source host with `cpus` CPUs carries at once: at least 1. */
export function streamLimit(cpus: number): number {
  return Math.max(1, Math.floor(cpus / CPUS_PER_STREAM));
}

/**
 * The start order: ascending memory × (1 + dirty rate), ties by name; an offline move sends no
 * memory (a definition copy) and weighs nothing.
 */
export function startOrder<
  T extends { memoryKiB: number; dirtyRateMiBs: number; guest: string; offline?: boolean },
>(moves: readonly T[]): T[] {
  const weight = (m: T): number => (m.offline === true ? 0 : m.memoryKiB * (1 + m.dirtyRateMiBs));
  return [...moves].sort((a, b) => weight(a) - weight(b) || a.guest.localeCompare(b.guest));
}

/**
 * max(1, min(4, floor(link ÷ max(8, 2 × highest dirty rate)))) with the figures in words;
 * `linkMiBs` undefined when no live move needs the link.
 */
export function parallelism(
  linkMiBs: number | undefined,
  highestDirtyMiBs: number,
  moves: number,
): { parallel: number; reason: string } {
  if (moves === 0) return { parallel: 1, reason: 'nothing to move' };
  if (linkMiBs === undefined)
    return {
      parallel: Math.min(MAX_PARALLEL, moves),
      reason: `offline moves only: no memory stream shares the link (at most ${MAX_PARALLEL})`,
    };
  const perStream = Math.max(MIN_STREAM_MIBS, 2 * highestDirtyMiBs);
  const fits = Math.floor(linkMiBs / perStream);
  const parallel = Math.max(1, Math.min(MAX_PARALLEL, fits));
  return {
    parallel,
    reason: `link ${Math.round(linkMiBs)} MiB/s ÷ max(${MIN_STREAM_MIBS}, 2 × ${round1(highestDirtyMiBs)} MiB/s highest dirty rate) = ${fits}${fits > MAX_PARALLEL ? `, at most ${MAX_PARALLEL}` : fits < 1 ? ', at least 1' : ''}`,
  };
}

function round1(v: number): string {
  return v.toFixed(1).replace(/\.0$/, '');
}

/**
 * Wall time of running `moves` in order, at most `parallel` at once. Each move takes `ms`
 * alone; live moves running together share the link, each going at 1/k of its speed when k
 * stream at once; offline moves (a definition copy) share nothing.
 */
export function makespanMs(
  moves: readonly { ms: number; live: boolean }[],
  parallel: number,
): number {
  const queue = moves.map((m) => ({ left: Math.max(0, m.ms), live: m.live }));
  const running: { left: number; live: boolean }[] = [];
  let now = 0;
  while (queue.length > 0 || running.length > 0) {
    while (running.length < Math.max(1, parallel) && queue.length > 0) {
      const next = queue.shift();
      if (next !== undefined) running.push(next);
    }
    const streams = running.filter((m) => m.live).length;
    const speed = (m: { live: boolean }): number => (m.live ? 1 / streams : 1);
    const step = Math.min(...running.map((m) => m.left / speed(m)));
    now += step;
    for (const m of running) m.left -= step * speed(m);
    for (let i = running.length - 1; i >= 0; i--)
      if ((running[i]?.left ?? 0) <= 1e-6) running.splice(i, 1);
  }
  return Math.round(now);
}
