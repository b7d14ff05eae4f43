/**
 * Parses the test guest's heartbeat lines (guest/workload.c) from its serial console:
 * `FERRY-HB seq=N uptime=S dirtied_mib=M verified=V corrupt=C [disk_written=W disk_corrupt=D]`.
 * @module
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

const HEARTBEAT_RE =
  /FERRY-HB seq=(\d+) uptime=([\d.]+) dirtied_mib=([\d.]+) verified=(\d+) corrupt=(\d+)(?: disk_written=(\d+) disk_corrupt=(\d+))?/;

/** One heartbeat, or undefined when the line is not one. */
export function parseHeartbeat(line: string): Heartbeat | undefined {
  const m = HEARTBEAT_RE.exec(line);
  if (m === null) return undefined;
  const hb: Heartbeat = {
    seq: Number(m[1]),
    uptime: Number(m[2]),
    dirtiedMib: Number(m[3]),
    verified: Number(m[4]),
    corrupt: Number(m[5]),
  };
  if (m[6] !== undefined && m[7] !== undefined) {
    hb.diskWritten = Number(m[6]);
    hb.diskCorrupt = Number(m[7]);
  }
  return hb;
}

/** Every heartbeat in a console log, in order. */
export function parseHeartbeats(text: string): Heartbeat[] {
  const out: Heartbeat[] = [];
  for (const line of text.split('\n')) {
    const hb = parseHeartbeat(line);
    if (hb !== undefined) out.push(hb);
  }
  return out;
}
