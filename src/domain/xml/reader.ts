/**
 * Helpers the parser uses to read modelled elements while keeping account of what it did not
 * read, so that every unknown attribute and element ends up verbatim in the definition.
 * @module
 */
import type { Element } from '@xmldom/xmldom';
import { FerryError } from '../../common/errors.js';
import type { ElementExtra, ExtraByPath, RawXml } from '../def.js';
import { attrsOf, childNodesOf, declaredPrefix, isElement, serialiseRaw } from './raw.js';

/**
 * Libvirt elements Ferry does not act on but that are routine in libvirt-written XML, keyed by
 * the parent they appear in ('*' for any parent). They are kept verbatim without a warning.
 */
const QUIET_ELEMENTS: Readonly<Record<string, readonly string[]>> = {
  '*': ['address', 'alias'],
  domain: ['metadata', 'pm', 'seclabel', 'resource'],
  devices: ['controller', 'memballoon', 'input', 'video'],
  clock: ['timer'],
  graphics: ['listen'],
  interface: ['target'],
};

/** Per-parse state shared by all readers. */
export class ParseContext {
  readonly warnings: string[] = [];

  /** `rootNs`: namespace declarations of <domain>, which verbatim fragments may rely on. */
  constructor(readonly rootNs: Readonly<Record<string, string>>) {}

  /** Verbatim XML of an element, with the namespace declarations it needs. */
  raw(el: Element): RawXml {
    return serialiseRaw(el, this.rootNs);
  }

  /** Keeps an unknown element verbatim, warning unless it is a routine libvirt element. */
  keep(el: Element, parent: string, into: RawXml[]): void {
    into.push(this.raw(el));
    const quiet = [...(QUIET_ELEMENTS['*'] ?? []), ...(QUIET_ELEMENTS[parent] ?? [])];
    if (!quiet.includes(el.nodeName)) {
      this.warnings.push(`unknown element <${el.nodeName}> in <${parent}> kept verbatim`);
    }
  }
}

/** A modelled element: hands out attributes and remembers which ones were read. */
export class ElementReader {
  readonly #read = new Set<string>();

  constructor(
    readonly el: Element,
    readonly ctx: ParseContext,
  ) {}

  get name(): string {
    return this.el.nodeName;
  }

  /** The attribute's value, or undefined when absent. */
  attr(name: string): string | undefined {
    this.#read.add(name);
    return this.el.getAttributeNode(name)?.value;
  }

  /** Marks an attribute as handled without reading it (e.g. a runtime-only one). */
  skip(name: string): void {
    this.#read.add(name);
  }

  /** Element children, warning about stray character data (which is dropped). */
  children(): Element[] {
    const out: Element[] = [];
    for (const node of childNodesOf(this.el)) {
      if (isElement(node)) out.push(node);
      else if ((node.nodeType === 3 || node.nodeType === 4) && (node.nodeValue ?? '').trim()) {
        this.ctx.warnings.push(`unexpected text in <${this.name}> ignored`);
      }
    }
    return out;
  }

  /** Text content of an element that may only hold text. */
  text(): string {
    const child = childNodesOf(this.el).find(isElement);
    if (child !== undefined) {
      throw new FerryError(
        'XML_ERROR',
        `Unexpected element <${child.nodeName}> in <${this.name}>: it holds only text`,
      );
    }
    return this.el.textContent ?? '';
  }

  /** Attributes never read, in document order, warned about; namespace declarations excluded. */
  leftover(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of attrsOf(this.el)) {
      if (this.#read.has(name) || declaredPrefix(name) !== undefined) continue;
      out[name] = value;
      this.ctx.warnings.push(`unknown attribute '${name}' on <${this.name}> kept verbatim`);
    }
    return out;
  }
}

/** Collects the {@link ExtraByPath} of one definition. */
export class Extras {
  readonly #map: ExtraByPath = {};

  #entry(path: string): ElementExtra {
    const existing = this.#map[path];
    if (existing !== undefined) return existing;
    const entry: ElementExtra = { attrs: {}, children: [] };
    this.#map[path] = entry;
    return entry;
  }

  /** Records the unread attributes of `r` under `path`. */
  attrs(path: string, r: ElementReader): void {
    const left = r.leftover();
    if (Object.keys(left).length > 0) this.#entry(path).attrs = left;
  }

  /**
   * Finishes a leaf element (one whose children Ferry does not model): its unread attributes
   * and all its child elements go under `path`.
   */
  leaf(path: string, r: ElementReader): void {
    this.attrs(path, r);
    const kept: RawXml[] = [];
    for (const child of r.children()) r.ctx.keep(child, r.name, kept);
    if (kept.length > 0) this.#entry(path).children.push(...kept);
  }

  /** Records verbatim children of a modelled element that also has modelled children. */
  children(path: string, kept: readonly RawXml[]): void {
    if (kept.length > 0) this.#entry(path).children.push(...kept);
  }

  /** The collected map, or undefined when nothing was left over. */
  result(): ExtraByPath | undefined {
    return Object.keys(this.#map).length > 0 ? this.#map : undefined;
  }
}

/** `{ unmodelled }` when there is something to keep, else `{}` (exactOptionalPropertyTypes). */
export function unmodelledOf(extras: Extras): { unmodelled?: ExtraByPath } {
  const map = extras.result();
  return map === undefined ? {} : { unmodelled: map };
}

function isOneOf<T extends string>(value: string, list: readonly T[]): value is T {
  return (list as readonly string[]).includes(value);
}

/** "a", "a or b", "a, b or c". */
export function orList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items.at(-1) ?? ''}`;
}

/**
 * Checks an enumerated value. Values libvirt knows but Ferry does not run are
 * CONFIG_UNSUPPORTED; anything else is XML_ERROR. `what` reads like 'Disk type'.
 */
export function enumValue<T extends string>(
  value: string,
  supported: readonly T[],
  libvirtKnows: readonly string[],
  what: string,
): T {
  if (isOneOf(value, supported)) return value;
  const expected = `(expected ${orList(supported)})`;
  if (libvirtKnows.includes(value)) {
    throw new FerryError('CONFIG_UNSUPPORTED', `${what} '${value}' is not supported ${expected}`);
  }
  // 'Disk type' reads 'disk type' mid-sentence; acronyms such as 'CPU mode' stay as they are.
  const lower = /^[A-Z][a-z]/.test(what) ? what.charAt(0).toLowerCase() + what.slice(1) : what;
  throw new FerryError('XML_ERROR', `Invalid ${lower} '${value}' ${expected}`);
}

/** Reads an 'on'/'off' or 'yes'/'no' attribute. */
export function boolValue(value: string, truthy: 'on' | 'yes', what: string): boolean {
  const falsy = truthy === 'on' ? 'off' : 'no';
  if (value === truthy) return true;
  if (value === falsy) return false;
  throw new FerryError('XML_ERROR', `Invalid ${what} '${value}' (expected ${truthy} or ${falsy})`);
}

/** Reads an integer in [min, max]; `what` names the element or attribute in errors. */
export function intValue(value: string, what: string, min: number, max: number): number {
  const text = value.trim();
  const n = /^-?[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new FerryError(
      'XML_ERROR',
      `Invalid ${what} '${text}': expected an integer from ${min} to ${max}`,
    );
  }
  return n;
}

/** Throws when a single-occurrence element appears twice. */
export function once(seen: Set<string>, el: Element, parent: string): void {
  if (seen.has(el.nodeName)) {
    throw new FerryError('XML_ERROR', `Duplicate <${el.nodeName}> element in <${parent}>`);
  }
  seen.add(el.nodeName);
}
