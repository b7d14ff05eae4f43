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

/** What the scheduler says about one thread: precise, unlike the tick-sampled utime/stime. */
export interface ThreadSchedStat {
  /** Time spent running, in nanoseconds. */
  runNs: number;
  /** Time spent runnable but waiting for a CPU, in nanoseconds. */
  waitNs: number;
  /** Times it was scheduled in. */
  slices: number;
  /** Its state letter from /proc (R running, S sleeping, D uninterruptible, T stopped …). */
  state: string;
}

/**
 * /proc/PID/task/TID/schedstat and the state from .../stat, or undefined when the thread is
 * gone or the kernel keeps no schedstat (CONFIG_SCHED_INFO off).
 */
export function threadSchedStat(pid: number, tid: number): ThreadSchedStat | undefined {
  try {
    const [run, wait, slices] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '?';
    if (run === undefined || wait === undefined || slices === undefined) return undefined;
    if (![run, wait, slices].every(Number.isFinite)) return undefined;
    return { runNs: run, waitNs: wait, slices, state };
  } catch {
    return undefined;
  }
}
