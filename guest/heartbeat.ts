/**
 * Parser for the heartbeat lines printed by the Ferry test guest's workload
 * (guest/workload.c) on its serial console:
 *
 *   FERRY-HB seq=12 uptime=7.36 dirtied_mib=115.0 verified=54828 corrupt=0
 *   FERRY-HB seq=12 uptime=7.36 dirtied_mib=115.0 verified=54828 corrupt=0 disk_written=468 disk_corrupt=0 disk_verified=3012 disk_sweeps=4 disk_lost=0
 *
 * The disk fields are present only when the guest runs the disk workload (guests built
 * before the disk verifier print only disk_written and disk_corrupt). Also the disk
 * workload's boot-time check and its shutdown record:
 *
 *   FERRY-DISK-CHECK blocks=6215 bad=0 lost=0 ok=1 seq=6215 clean=1
 *   FERRY-DISK-SYNCED seq=6215 written=6215 ok=1
 */

export interface Heartbeat {
  seq: number;
  uptime: number;
  dirtiedMib: number;
  verified: number;
  corrupt: number;
  diskWritten?: number;
  diskCorrupt?: number;
  /** Disk blocks read back and checked (the verifier's sweeps, before and after each write). */
  diskVerified?: number;
  /** Completed sweeps of the verifier over every written block. */
  diskSweeps?: number;
  /** Blocks found holding an older write than the last one acknowledged to them. */
  diskLost?: number;
}

// Anything may precede the marker on a serial line (an interleaved kernel
// message, terminal noise), but the fields must be complete and in order.
const HEARTBEAT_RE =
  /FERRY-HB seq=(\d+) uptime=(\d+(?:\.\d+)?) dirtied_mib=(\d+(?:\.\d+)?) verified=(\d+) corrupt=(\d+)(?: disk_written=(\d+) disk_corrupt=(\d+)(?: disk_verified=(\d+) disk_sweeps=(\d+) disk_lost=(\d+))?)?\s*$/;

/** Parses one line; returns undefined when it is not a (complete) heartbeat. */
export function parseHeartbeat(line: string): Heartbeat | undefined {
  const m = HEARTBEAT_RE.exec(line);
  if (m === null) return undefined;
  const [, seq, uptime, dirtiedMib, verified, corrupt, diskWritten, diskCorrupt, ...verifier] = m;
  if (
    seq === undefined ||
    uptime === undefined ||
    dirtiedMib === undefined ||
    verified === undefined ||
    corrupt === undefined
  ) {
    return undefined;
  }
  const hb: Heartbeat = {
    seq: Number(seq),
    uptime: Number(uptime),
    dirtiedMib: Number(dirtiedMib),
    verified: Number(verified),
    corrupt: Number(corrupt),
  };
  if (diskWritten !== undefined && diskCorrupt !== undefined) {
    hb.diskWritten = Number(diskWritten);
    hb.diskCorrupt = Number(diskCorrupt);
  }
  const [diskVerified, diskSweeps, diskLost] = verifier;
  if (diskVerified !== undefined && diskSweeps !== undefined && diskLost !== undefined) {
    hb.diskVerified = Number(diskVerified);
    hb.diskSweeps = Number(diskSweeps);
    hb.diskLost = Number(diskLost);
  }
  return hb;
}

/**
 * Parses every heartbeat in a serial log (other lines are skipped), in order. A last line
 * without its newline is ignored: QEMU writes the serial log byte by byte, so it may be
 * incomplete (`corrupt=1` of what becomes `corrupt=12`).
 */
export function parseHeartbeats(text: string): Heartbeat[] {
  return parseLines(text, parseHeartbeat);
}

/** What the disk workload found on the disk at boot (`ferry.disk_check=1`). */
export interface DiskCheck {
  /** Data blocks the on-disk table says were written, and that were checked. */
  blocks: number;
  /** Blocks (and superblock or table blocks) with a bad magic, index or checksum. */
  bad: number;
  /** Blocks holding an older write than the last one recorded for them. */
  lost: number;
  ok: boolean;
  /** The last acknowledged write's sequence number the disk carries (the writer goes on from it). */
  seq: number;
  /** Whether the previous boot shut down cleanly (every acknowledged write recorded). */
  clean: boolean;
}

const DISK_CHECK_RE =
  /FERRY-DISK-CHECK blocks=(\d+) bad=(\d+) lost=(\d+) ok=([01]) seq=(\d+) clean=([01])\s*$/;

/** Parses a FERRY-DISK-CHECK line; undefined for anything else. */
export function parseDiskCheck(line: string): DiskCheck | undefined {
  const m = DISK_CHECK_RE.exec(line);
  if (m === null) return undefined;
  const [, blocks, bad, lost, ok, seq, clean] = m.map(Number);
  if (blocks === undefined || bad === undefined || lost === undefined || seq === undefined)
    return undefined;
  return { blocks, bad, lost, ok: ok === 1, seq, clean: clean === 1 };
}

/** Every FERRY-DISK-CHECK in a serial log, in order (one per boot with ferry.disk_check=1). */
export function parseDiskChecks(text: string): DiskCheck[] {
  return parseLines(text, parseDiskCheck);
}

/** What the disk workload left on record when the guest shut down (ACPI power button). */
export interface DiskSynced {
  /** Sequence number of the last acknowledged write, now on record on the disk. */
  seq: number;
  /** Blocks written during this boot. */
  written: number;
  /** Every record write succeeded and no I/O error happened during this boot. */
  ok: boolean;
}

const DISK_SYNCED_RE = /FERRY-DISK-SYNCED seq=(\d+) written=(\d+) ok=([01])\s*$/;

/** Parses a FERRY-DISK-SYNCED line; undefined for anything else. */
export function parseDiskSynced(line: string): DiskSynced | undefined {
  const m = DISK_SYNCED_RE.exec(line);
  if (m === null) return undefined;
  const [, seq, written, ok] = m.map(Number);
  if (seq === undefined || written === undefined) return undefined;
  return { seq, written, ok: ok === 1 };
}

/** Every FERRY-DISK-SYNCED in a serial log, in order (one per clean shutdown). */
export function parseDiskSyncs(text: string): DiskSynced[] {
  return parseLines(text, parseDiskSynced);
}

/** Complete lines only: the last one may still be being written. */
function parseLines<T>(text: string, parse: (line: string) => T | undefined): T[] {
  const out: T[] = [];
  const lines = text.split('\n');
  lines.pop(); // '' after the final newline, or an incomplete line
  for (const line of lines) {
    const item = parse(line);
    if (item !== undefined) out.push(item);
  }
  return out;
}
