/**
 * Parser for the heartbeat lines printed by the Ferry test guest's workload
 * (guest/workload.c) on its serial console:
 *
 *   FERRY-HB seq=12 uptime=7.36 dirtied_mib=115.0 verified=54828 corrupt=0
 *   FERRY-HB seq=12 uptime=7.36 dirtied_mib=115.0 verified=54828 corrupt=0 disk_written=468 disk_corrupt=0
 *
 * The disk fields are present only when the guest runs the disk workload.
 */

export interface Heartbeat {
  seq: number;
  uptime: number;
  dirtiedMib: number;
  verified: number;
  corrupt: number;
  diskWritten?: number;
  diskCorrupt?: number;
}

// Anything may precede the marker on a serial line (an interleaved kernel
// message, terminal noise), but the fields must be complete and in order.
const HEARTBEAT_RE =
  /FERRY-HB seq=(\d+) uptime=(\d+(?:\.\d+)?) dirtied_mib=(\d+(?:\.\d+)?) verified=(\d+) corrupt=(\d+)(?: disk_written=(\d+) disk_corrupt=(\d+))?\s*$/;

/** Parses one line; returns undefined when it is not a (complete) heartbeat. */
export function parseHeartbeat(line: string): Heartbeat | undefined {
  const m = HEARTBEAT_RE.exec(line);
  if (m === null) return undefined;
  const [, seq, uptime, dirtiedMib, verified, corrupt, diskWritten, diskCorrupt] = m;
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
  return hb;
}

/**
 * Parses every heartbeat in a serial log (other lines are skipped), in order. A last line
 * without its newline is ignored: QEMU writes the serial log byte by byte, so it may be
 * incomplete (`corrupt=1` of what becomes `corrupt=12`).
 */
export function parseHeartbeats(text: string): Heartbeat[] {
  const out: Heartbeat[] = [];
  const lines = text.split('\n');
  lines.pop(); // '' after the final newline, or an incomplete line
  for (const line of lines) {
    const hb = parseHeartbeat(line);
    if (hb !== undefined) out.push(hb);
  }
  return out;
}
