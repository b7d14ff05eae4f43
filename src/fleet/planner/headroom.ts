/**
 * The room a target keeps after its placements, and the memory words plan reasons use.
 * @module
 */

/** A target keeps this share of the memory it offers free after its placements … */
export const HEADROOM_RATIO = 0.1;
/** … and never less than this (KiB): 128 MiB. */
export const HEADROOM_MIN_KIB = 128 * 1024;

/** The memory a host with `offeredKiB` keeps free after its placements. */
export function headroomKiB(offeredKiB: number): number {
  return Math.max(Math.ceil(offeredKiB * HEADROOM_RATIO), HEADROOM_MIN_KIB);
}

/** KiB as a person reads it in a plan: '384 MiB', '1.5 GiB'. */
export function mib(kib: number): string {
  const m = kib / 1024;
  if (Math.abs(m) >= 1024) return `${(m / 1024).toFixed(1).replace(/\.0$/, '')} GiB`;
  return `${Math.round(m)} MiB`;
}

/** A fraction as whole percent: '37 %'. */
export function pct(fraction: number): string {
  return `${Math.round(fraction * 100)} %`;
}
