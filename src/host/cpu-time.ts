/**
 * CPU time a process has used, from /proc (QEMU's time is the guest's time, as virsh reports).
 * @module
 */
import { readFileSync } from 'node:fs';

/** Linux's USER_HZ is 100 on every architecture QEMU/KVM hosts run. */
const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of `pid` in nanoseconds, or 0 when it cannot be read. */
export function processCpuTimeNs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces; fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1e9) / CLOCK_TICKS_PER_SECOND : 0;
  } catch {
    return 0;
  }
}
