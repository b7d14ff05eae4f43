/**
 * The memory check: the destination must have free memory (MemAvailable) for the guest's RAM
 * plus what its QEMU process needs beside it; near that, it warns.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { PreflightVerdict } from '../rpc/schema/preflight.js';
import { formatBytes } from './format-bytes.js';

/**
 * QEMU's own memory beside guest RAM (device model, TCG translation cache in use, page
 * tables, the migration's buffers): a fixed 128 MiB plus 5 % of the guest's RAM. The 128 MiB
 * is above the Rss a 128 MiB test guest's QEMU 7.2 (TCG) has beyond its RAM mapping on this
 * machine (≈ 60–90 MiB); the 5 % covers page tables and dirty bitmaps growing with RAM.
 */
export const QEMU_OVERHEAD_BYTES = 128 * 1024 * 1024;
export const QEMU_OVERHEAD_RATIO = 0.05;
/** Below need × this, the check warns: the host would be left with little room. */
export const MEMORY_NEAR_FACTOR = 1.25;

/** The memory a guest with `memoryBytes` of RAM needs on a host. */
export function memoryNeeded(memoryBytes: number): number {
  return Math.ceil(memoryBytes * (1 + QEMU_OVERHEAD_RATIO) + QEMU_OVERHEAD_BYTES);
}

/** MemAvailable of /proc/meminfo (or a file in its format), in bytes. */
export function readMemAvailable(path = '/proc/meminfo'): number {
  const text = readFileSync(path, 'utf8');
  const kib =
    /^MemAvailable:\s+(\d+) kB/m.exec(text)?.[1] ?? /^MemFree:\s+(\d+) kB/m.exec(text)?.[1];
  return kib === undefined ? 0 : Number(kib) * 1024;
}

/** MemTotal of /proc/meminfo (or a file in its format), in bytes. */
export function readMemTotal(path = '/proc/meminfo'): number {
  const kib = /^MemTotal:\s+(\d+) kB/m.exec(readFileSync(path, 'utf8'))?.[1];
  return kib === undefined ? 0 : Number(kib) * 1024;
}

/**
 * The memory a host can still give guests: what it offers (ferryd.conf host_memory_mib, or
 * MemTotal) minus what its active guests need (their RAM plus QEMU's overhead, as
 * {@link memoryNeeded}), never above MemAvailable (other processes use memory too) nor below 0.
 * Fleet plans (host.capacity) and the preflight's destination check both use this figure, so
 * a plan and the migration's own preflight agree.
 */
export function guestMemoryFree(p: {
  offeredBytes: number;
  memAvailableBytes: number;
  activeGuestBytes: readonly number[];
}): number {
  const used = p.activeGuestBytes.reduce((sum, b) => sum + memoryNeeded(b), 0);
  return Math.max(0, Math.min(p.offeredBytes - used, p.memAvailableBytes));
}

export function checkMemory(
  memoryBytes: number,
  availableBytes: number,
): { verdict: PreflightVerdict; reason: string } {
  const need = memoryNeeded(memoryBytes);
  const what = `guest ${formatBytes(memoryBytes)} (+ QEMU ≈ ${formatBytes(need - memoryBytes)}), destination has ${formatBytes(availableBytes)} available`;
  if (availableBytes < need) return { verdict: 'fail', reason: `${what}: not enough memory` };
  if (availableBytes < need * MEMORY_NEAR_FACTOR)
    return { verdict: 'warn', reason: `${what}: little memory would be left` };
  return { verdict: 'pass', reason: what };
}
