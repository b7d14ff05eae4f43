/**
 * How much of a running guest's RAM QEMU will send as normal pages: the resident part of
 * its RAM mapping. Pages the guest never touched are not resident, and QEMU sends them as
 * zero pages at almost no cost (see predict.ts).
 * @module
 */
import { readFileSync } from 'node:fs';
import { FerryError, messageOf } from '../common/errors.js';

export interface SmapsMapping {
  start: bigint;
  /** Permissions as smaps prints them, e.g. `rw-p`. */
  perms: string;
  /** The mapped file, or '' for anonymous memory ([heap] and the like are named). */
  name: string;
  sizeBytes: number;
  rssBytes: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+\S+\s+\S+\s+\S+\s*(.*)$/;
const FIELD = /^(\w+):\s+(\d+) kB$/;

/** The mappings of a /proc/PID/smaps text, with their Size and Rss. */
export function parseSmaps(text: string): SmapsMapping[] {
  const mappings: SmapsMapping[] = [];
  let current: SmapsMapping | undefined;
  for (const line of text.split('\n')) {
    const header = HEADER.exec(line);
    if (header !== null) {
      current = {
        start: BigInt(`0x${header[1] ?? '0'}`),
        perms: header[3] ?? '',
        name: (header[4] ?? '').trim(),
        sizeBytes: 0,
        rssBytes: 0,
      };
      mappings.push(current);
      continue;
    }
    const field = FIELD.exec(line);
    if (field === null || current === undefined) continue;
    const bytes = Number(field[2]) * 1024;
    if (field[1] === 'Size') current.sizeBytes = bytes;
    else if (field[1] === 'Rss') current.rssBytes = bytes;
  }
  return mappings;
}

/**
 * The resident bytes of the guest-RAM mapping in `smaps`: QEMU maps guest RAM (pc.ram, or a
 * memory-backend-ram) as one anonymous read-write mapping of exactly the guest's size (seen
 * with QEMU 7.2: `rw-p … 00:00 0`, Size = -m). Undefined when there is none (file- or
 * hugetlbfs-backed memory), and the caller falls back.
 */
export function guestRamResident(smaps: string, memoryBytes: number): number | undefined {
  const ram = parseSmaps(smaps).find(
    (m) => m.name === '' && m.perms.startsWith('rw') && m.sizeBytes === memoryBytes,
  );
  return ram?.rssBytes;
}

/**
 * The Rss of the guest-RAM mapping of QEMU process `pid`. When no mapping has the guest's
 * size, all of `memoryBytes` (every page counted as touched: the prediction errs long, not
 * short). Throws SYSTEM_ERROR when the process's smaps cannot be read (it is gone).
 */
export function residentGuestBytes(pid: number, memoryBytes: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch (err) {
    throw new FerryError(
      'SYSTEM_ERROR',
      `Cannot read the memory map of QEMU process ${pid}: ${messageOf(err)}`,
      {
        cause: err,
      },
    );
  }
  return guestRamResident(text, memoryBytes) ?? memoryBytes;
}
