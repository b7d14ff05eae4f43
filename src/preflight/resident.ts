/**
 * How much of a running guest's RAM QEMU will send as normal pages: the resident part of
 * its RAM mapping. Pages the guest never touched are not resident, and QEMU sends them as
 * zero pages at almost no cost (see predict.ts).
 * @module
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
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
 * The guest-RAM mapping in `smaps`: QEMU maps guest RAM (pc.ram, or a
 * memory-backend-ram) as one anonymous read-write mapping of exactly the guest's size (seen
 * with QEMU 7.2: `rw-p … 00:00 0`, Size = -m). Undefined when there is none (file- or
 * hugetlbfs-backed memory), and the caller falls back.
 */
export function guestRamMapping(smaps: string, memoryBytes: number): SmapsMapping | undefined {
  return parseSmaps(smaps).find(
    (m) => m.name === '' && m.perms.startsWith('rw') && m.sizeBytes === memoryBytes,
  );
}

/** At most this many resident pages are read to tell zero pages from data (256 MiB). */
export const MAX_SAMPLED_PAGES = 65_536;
const PAGE = 4096;
const PRESENT = 1n << 63n;
const ZERO_PAGE = Buffer.alloc(PAGE);

/** Indices (within the mapping) of the pages /proc/PID/pagemap says are in RAM. */
function presentPages(fd: number, start: bigint, pages: number): number[] {
  const present: number[] = [];
  const batch = 65_536;
  const buf = Buffer.alloc(batch * 8);
  for (let first = 0; first < pages; first += batch) {
    const n = Math.min(batch, pages - first);
    const offset = (start / BigInt(PAGE) + BigInt(first)) * 8n;
    const read = readSync(fd, buf, 0, n * 8, offset);
    for (let i = 0; i < read / 8; i++)
      if ((buf.readBigUInt64LE(i * 8) & PRESENT) !== 0n) present.push(first + i);
  }
  return present;
}

/**
 * Of the guest-RAM mapping's resident pages, the bytes that are not all zero: what QEMU will
 * send as normal pages. Resident alone over-counts: QEMU asks for transparent huge pages for
 * guest RAM, so one touched 4 KiB page makes 2 MiB resident, mostly zeros (measured: a
 * 256 MiB test guest with 148 MiB resident sent 119.5 MiB of normal pages). Reads at most
 * MAX_SAMPLED_PAGES of them (evenly spread) through /proc/PID/mem and scales up.
 */
function nonZeroBytes(pid: number, start: bigint, sizeBytes: number): number {
  const pagemap = openSync(`/proc/${pid}/pagemap`, 'r');
  let present: number[];
  try {
    present = presentPages(pagemap, start, Math.floor(sizeBytes / PAGE));
  } finally {
    closeSync(pagemap);
  }
  if (present.length === 0) return 0;
  const stride = Math.max(1, Math.ceil(present.length / MAX_SAMPLED_PAGES));
  const mem = openSync(`/proc/${pid}/mem`, 'r');
  const page = Buffer.alloc(PAGE);
  let sampled = 0;
  let data = 0;
  try {
    for (let i = 0; i < present.length; i += stride) {
      const index = present[i] ?? 0;
      if (readSync(mem, page, 0, PAGE, start + BigInt(index * PAGE)) !== PAGE) continue;
      sampled++;
      if (!page.equals(ZERO_PAGE)) data++;
    }
  } finally {
    closeSync(mem);
  }
  return sampled === 0
    ? present.length * PAGE
    : Math.round((data / sampled) * present.length) * PAGE;
}

/**
 * What QEMU process `pid` will send of its guest RAM as normal pages: the resident pages of
 * the guest-RAM mapping that hold data (zero pages excluded by reading them; see
 * nonZeroBytes). Falls back to the mapping's Rss when its memory cannot be read, and to all
 * of `memoryBytes` when no mapping has the guest's size (every page counted as touched: the
 * prediction errs long, not short). Throws SYSTEM_ERROR when the process's smaps cannot be
 * read (it is gone).
 */
export function residentGuestBytes(pid: number, memoryBytes: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch (err) {
    throw new FerryError(
      'SYSTEM_ERROR',
      `Cannot read the memory map of QEMU process ${pid}: ${messageOf(err)}`,
      { cause: err },
    );
  }
  const ram = guestRamMapping(text, memoryBytes);
  if (ram === undefined) return memoryBytes;
  try {
    return nonZeroBytes(pid, ram.start, ram.sizeBytes);
  } catch {
    return ram.rssBytes;
  }
}
