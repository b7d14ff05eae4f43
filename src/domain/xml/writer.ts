/**
 * Small building blocks of the formatter. Every piece is a string of XML at depth 0 whose
 * tag-to-tag line breaks may be re-indented (the invariant of ./raw.ts), so nesting a piece is
 * just {@link indentRaw}.
 * @module
 */
import type { ElementExtra, ExtraByPath, RawXml } from '../def.js';
import { attrsText, charData, indentRaw } from './raw.js';

/** Attributes in output order; undefined values are left out. */
export type Attrs = readonly (readonly [string, string | number | undefined])[];

/** A piece of output with the element name that decides its place among its siblings. */
export interface Piece {
  name: string;
  xml: string;
}

function defined(attrs: Attrs, extra: ElementExtra | undefined): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of attrs) if (value !== undefined) out.push([name, String(value)]);
  for (const [name, value] of Object.entries(extra?.attrs ?? {})) {
    // A modelled attribute always wins over a stray copy in the extras.
    if (!out.some(([n]) => n === name)) out.push([name, value]);
  }
  return out;
}

/**
 * An element with attributes and either child pieces or text. `extra` adds the unmodelled
 * attributes and children recorded for it.
 */
export function element(
  name: string,
  attrs: Attrs,
  content: string[] | { text: string },
  extra?: ElementExtra,
): string {
  const open = `<${name}${attrsText(defined(attrs, extra))}`;
  if (!Array.isArray(content)) return `${open}>${charData(content.text)}</${name}>`;
  const children = [...content, ...(extra?.children ?? [])];
  if (children.length === 0) return `${open}/>`;
  return `${open}>\n${children.map((c) => indentRaw(c, '  ')).join('\n')}\n</${name}>`;
}

/** Shorthand for a piece made by {@link element}, looking up its extras by `path`. */
export function piece(
  name: string,
  attrs: Attrs,
  content: string[] | { text: string },
  more: ExtraByPath | undefined,
  path: string = name,
): Piece {
  return { name, xml: element(name, attrs, content, more?.[path]) };
}

/** The name of a verbatim element, e.g. 'qemu:commandline'. */
export function rawName(raw: RawXml): string {
  return /^<([^\s/>]+)/.exec(raw)?.[1] ?? '';
}

/** Verbatim elements as pieces. */
export function rawPieces(raws: readonly RawXml[]): Piece[] {
  return raws.map((xml) => ({ name: rawName(xml), xml }));
}

/**
 * Puts pieces in libvirt's order: by the position of their name in `order`, unknown names last,
 * and otherwise as given (the sort is stable).
 */
export function ordered(pieces: Piece[], order: readonly string[]): string[] {
  const rank = (name: string): number => {
    const i = order.indexOf(name);
    return i < 0 ? order.length : i;
  };
  return pieces
    .map((p, i) => ({ p, r: rank(p.name), i }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map(({ p }) => p.xml);
}
