/**
 * The host's NUMA topology from sysfs, for `ferry capabilities` and the migration preflight's
 * NUMA check. A host without /sys/devices/system/node (some containers) is one cell holding
 * every CPU and all memory, as libvirt reports it.
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export interface NumaCell {
  id: number;
  /** Memory of the cell in KiB. */
  memoryKiB: number;
  /** Host CPU numbers in the cell. */
  cpus: number[];
}

export interface NumaTopology {
  cells: NumaCell[];
}

const NODE_DIR = '/sys/devices/system/node';

/** Reads the topology of this host (or of a sysfs tree rooted at `nodeDir`, for tests). */
export function readNumaTopology(nodeDir = NODE_DIR): NumaTopology {
  let names: string[];
  try {
    names = readdirSync(nodeDir).filter((n) => /^node\d+$/.test(n));
  } catch {
    names = [];
  }
  if (names.length === 0) {
    return {
      cells: [{ id: 0, memoryKiB: Math.floor(totalmem() / 1024), cpus: cpus().map((_, i) => i) }],
    };
  }
  const cells = names.map((name) => {
    const id = Number(name.slice(4));
    const dir = join(nodeDir, name);
    const meminfo = readFileSync(join(dir, 'meminfo'), 'utf8');
    const total = /MemTotal:\s+(\d+) kB/.exec(meminfo)?.[1];
    return {
      id,
      memoryKiB: total === undefined ? 0 : Number(total),
      cpus: parseCpuList(readFileSync(join(dir, 'cpulist'), 'utf8')),
    };
  });
  return { cells: cells.sort((a, b) => a.id - b.id) };
}

/** '0-3,8,10-11' → [0,1,2,3,8,10,11] (the kernel's and libvirt's cpuset syntax; '^N' excludes). */
export function parseCpuList(text: string): number[] {
  const set = new Set<number>();
  const trimmed = text.trim();
  if (trimmed === '') return [];
  for (const part of trimmed.split(',')) {
    const exclude = part.startsWith('^');
    const body = exclude ? part.slice(1) : part;
    const m = /^(\d+)(?:-(\d+))?$/.exec(body.trim());
    if (m?.[1] === undefined) throw new Error(`invalid CPU list '${text.trim()}'`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new Error(`invalid CPU list '${text.trim()}'`);
    for (let i = lo; i <= hi; i++) {
      if (exclude) set.delete(i);
      else set.add(i);
    }
  }
  return [...set].sort((a, b) => a - b);
}
