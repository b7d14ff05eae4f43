/**
 * How the console writes sizes, rates and durations: binary units as virsh and `ferry`
 * print them ("256 MiB", "35.2 MiB/s"), and short durations ("12 s", "3 min 05 s").
 * DOM-free, so node:test checks it.
 * @module
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** `bytes` in the largest binary unit that keeps the number ≥ 1: "256 MiB", "1.5 GiB", "0 B". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  // One decimal unless the number is whole: "256 MiB" reads better than "256.0 MiB".
  const rounded = Math.round(value * 10) / 10;
  const text = Number.isInteger(rounded) ? String(rounded) : rounded.toFixed(1);
  return `${text} ${UNITS[unit] ?? 'B'}`;
}

/** A size given in KiB (domain memory is), e.g. 262144 → "256 MiB". */
export function formatKiB(kib: number): string {
  return formatBytes(kib * 1024);
}

/** A rate in bytes per second: "35.2 MiB/s". */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Whole seconds, rounded up: "0 s", "42 s", "3 min 05 s", "1 h 02 min"; "—" when unknown. */
export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** A time in milliseconds: "350 ms" below a second, "12.3 s" below a minute, then as {@link formatSeconds}. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return formatSeconds(ms / 1000);
}
