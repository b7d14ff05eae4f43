/**
 * The NUMA check: a guest pinned to host NUMA nodes or CPUs (`<numatune>`, `<cputune>`) can run
 * on the destination only if those nodes and CPUs exist there; and, as the chapter says of
 * NUMA pinning, it works well only between hosts of similar topology, so differing topologies
 * warn. Pinning elements are kept verbatim in the definition; they are read here.
 * @module
 */
import type { Element } from '@xmldom/xmldom';
import type { DomainDef } from '../domain/def.js';
import { parseXmlDocument } from '../domain/xml/syntax.js';
import { parseCpuList, type NumaTopology } from '../host/numa.js';
import type { PreflightVerdict } from '../rpc/schema/preflight.js';

/** One pinning statement of the definition, as written. */
export interface NumaPin {
  /** Where it is written, for the report: "numatune memory", "vcpupin vcpu 0", "emulatorpin". */
  what: string;
  kind: 'nodes' | 'cpus';
  /** The set as written ('0-1,^1'). */
  text: string;
  set: number[];
}

export interface GuestNuma {
  pins: NumaPin[];
  /** Guest NUMA cells (`<cpu><numa><cell>`), virtual: count only. */
  guestCells: number;
  /** Sets that do not parse, as "what 'text'": refused like a missing node. */
  invalid: string[];
}

function elementsOf(raw: string): Element | undefined {
  try {
    return parseXmlDocument(raw).documentElement ?? undefined;
  } catch {
    return undefined;
  }
}

function children(el: Element): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n !== null; n = n.nextSibling)
    if (n.nodeType === 1) out.push(n as Element);
  return out;
}

/** Reads the pinning of `def` (its verbatim <numatune>, <cputune> and <cpu><numa>). */
export function guestNumaOf(def: DomainDef): GuestNuma {
  const out: GuestNuma = { pins: [], guestCells: 0, invalid: [] };
  const add = (what: string, kind: NumaPin['kind'], text: string | null): void => {
    if (text === null || text === '') return;
    try {
      out.pins.push({ what, kind, text, set: parseCpuList(text) });
    } catch {
      out.invalid.push(`${what} '${text}'`);
    }
  };
  for (const raw of def.extra) {
    const el = elementsOf(raw);
    if (el?.nodeName === 'numatune') {
      for (const c of children(el)) {
        if (c.nodeName === 'memory')
          add('numatune memory nodeset', 'nodes', c.getAttribute('nodeset'));
        if (c.nodeName === 'memnode')
          add(
            `numatune memnode cellid ${c.getAttribute('cellid') ?? '?'} nodeset`,
            'nodes',
            c.getAttribute('nodeset'),
          );
      }
    } else if (el?.nodeName === 'cputune') {
      for (const c of children(el)) {
        if (c.nodeName === 'vcpupin')
          add(
            `vcpupin vcpu ${c.getAttribute('vcpu') ?? '?'} cpuset`,
            'cpus',
            c.getAttribute('cpuset'),
          );
        if (c.nodeName === 'emulatorpin')
          add('emulatorpin cpuset', 'cpus', c.getAttribute('cpuset'));
        if (c.nodeName === 'iothreadpin')
          add(
            `iothreadpin iothread ${c.getAttribute('iothread') ?? '?'} cpuset`,
            'cpus',
            c.getAttribute('cpuset'),
          );
      }
    }
  }
  for (const raw of def.cpu?.extra ?? []) {
    const el = elementsOf(raw);
    if (el?.nodeName === 'numa')
      out.guestCells = children(el).filter((c) => c.nodeName === 'cell').length;
  }
  return out;
}

/** [0,1,2,3,8] → '0-3,8'. */
export function formatCpuList(set: readonly number[]): string {
  const sorted = [...new Set(set)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function describeTopology(t: NumaTopology): string {
  const n = t.cells.length;
  return `${n} node${n === 1 ? '' : 's'} (${t.cells.map((c) => `${c.id}: CPUs ${formatCpuList(c.cpus) || 'none'}`).join('; ')})`;
}

function sameTopology(a: NumaTopology, b: NumaTopology): boolean {
  const key = (t: NumaTopology): string =>
    JSON.stringify(t.cells.map((c) => [c.id, formatCpuList(c.cpus)]));
  return key(a) === key(b);
}

/** The verdict for `guest` moving from the `source` topology to the `destination` one. */
export function checkNuma(
  guest: GuestNuma,
  source: NumaTopology,
  destination: NumaTopology,
): { verdict: PreflightVerdict; reason: string } {
  if (guest.invalid.length > 0)
    return { verdict: 'fail', reason: `cannot read ${guest.invalid.join(', ')}` };
  const nodes = new Set(destination.cells.map((c) => c.id));
  const cpus = new Set(destination.cells.flatMap((c) => c.cpus));
  const problems: string[] = [];
  for (const pin of guest.pins) {
    const have = pin.kind === 'nodes' ? nodes : cpus;
    const missing = pin.set.filter((x) => !have.has(x));
    if (missing.length > 0)
      problems.push(
        `${pin.what} ${pin.text} names ${pin.kind === 'nodes' ? 'node' : 'CPU'}${missing.length === 1 ? '' : 's'} ${formatCpuList(missing)} the destination lacks`,
      );
  }
  const destText = describeTopology(destination);
  if (problems.length > 0)
    return { verdict: 'fail', reason: `${problems.join('; ')} (destination: ${destText})` };
  if (guest.pins.length === 0 && guest.guestCells === 0)
    return { verdict: 'pass', reason: `guest not pinned to host NUMA nodes or CPUs` };
  if (!sameTopology(source, destination))
    return {
      verdict: 'warn',
      reason: `pinning fits, but the topologies differ (source ${describeTopology(source)}, destination ${destText}): NUMA pinning works well only between similar hosts`,
    };
  if (guest.guestCells > destination.cells.length)
    return {
      verdict: 'warn',
      reason: `the guest has ${guest.guestCells} NUMA cells, the destination ${destination.cells.length} node${destination.cells.length === 1 ? '' : 's'}`,
    };
  const pinned = guest.pins.map((p) => `${p.what} ${p.text}`).join(', ');
  return {
    verdict: 'pass',
    reason: `${pinned === '' ? `${guest.guestCells} guest NUMA cells` : pinned} fit${pinned === '' ? '' : 's'} the destination's ${destText}`,
  };
}
