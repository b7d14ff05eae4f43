/**
 * Setting a domain definition's `<cpu>` by editing its text: the `<cpu>` element is replaced
 * (or, when there is none, inserted where libvirt puts it, before `<clock>`/`<devices>`) and
 * every other byte of the XML is left as it was. The new `<cpu>` keeps the old one's
 * `<topology>`, `<numa>` and `<cache>` and its `check`: the baseline changes what the CPU can
 * do, not how many there are or how they are laid out.
 * @module
 */
import { XMLSerializer } from '@xmldom/xmldom';
import { FerryError } from '../common/errors.js';
import { parseXmlDocument } from '../domain/xml/syntax.js';
import { childElements } from '../cpu/xml-util.js';

/** Children of `<cpu>` the baseline replaces; the others are kept. */
const REPLACED = new Set(['model', 'vendor', 'feature']);
/** Top-level elements the `<cpu>` goes before when there is none (libvirt's order). */
const INSERT_BEFORE = ['clock', 'on_poweroff', 'on_reboot', 'on_crash', 'pm', 'devices'];

interface Span {
  start: number;
  end: number;
}

/** Comments, CDATA and `<metadata>` (any XML may be in it): no `<cpu>` there counts. */
function opaqueSpans(xml: string): Span[] {
  const spans: Span[] = [];
  const re = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<metadata\b[\s\S]*?<\/metadata>/g;
  for (let m = re.exec(xml); m !== null; m = re.exec(xml))
    spans.push({ start: m.index, end: m.index + m[0].length });
  return spans;
}

function matchesOutside(xml: string, re: RegExp, spans: Span[]): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) {
    const at = m.index;
    if (!spans.some((s) => at >= s.start && at < s.end)) out.push(m);
  }
  return out;
}

/** The whitespace before `at` on its line ('' when other text precedes it there). */
function indentAt(xml: string, at: number): string {
  const lineStart = xml.lastIndexOf('\n', at - 1) + 1;
  const before = xml.slice(lineStart, at);
  return /^[ \t]*$/.test(before) ? before : '';
}

/** `cpuXml` (a `<cpu>` ending in a newline) indented by `indent` on every line but the first. */
function indented(cpuXml: string, indent: string): string {
  return cpuXml
    .trimEnd()
    .split('\n')
    .map((line, i) => (i === 0 ? line : `${indent}${line}`))
    .join('\n');
}

/** The baseline `<cpu>` with what the old one had beyond model, vendor and features. */
function merged(cpuXml: string, oldCpu: string | undefined, indent: string): string {
  if (oldCpu === undefined) return indented(cpuXml, indent);
  const old = parseXmlDocument(oldCpu).documentElement;
  if (old === null) return indented(cpuXml, indent);
  const kept = childElements(old).filter((el) => !REPLACED.has(el.nodeName));
  const check = old.getAttribute('check');
  const serializer = new XMLSerializer();
  let text = cpuXml.trimEnd();
  if (check !== null && check !== '')
    text = text.replace(
      /^<cpu mode='custom' match='exact'>/,
      `<cpu mode='custom' match='exact' check='${check}'>`,
    );
  if (kept.length > 0) {
    const extra = kept.map((el) => `  ${serializer.serializeToString(el)}`).join('\n');
    text = text.replace(/\n<\/cpu>$/, `\n${extra}\n</cpu>`);
  }
  return indented(`${text}\n`, indent);
}

/**
 * `domainXml` with its `<cpu>` set to `cpuXml` (`<cpu mode='custom' match='exact'>…</cpu>`).
 * @throws {FerryError} XML_ERROR when the definition has several `<cpu>` elements or no
 *   `</domain>` to insert before.
 */
export function withCpu(domainXml: string, cpuXml: string): string {
  const spans = opaqueSpans(domainXml);
  const cpus = matchesOutside(domainXml, /<cpu\b[^>]*?(?:\/>|>[\s\S]*?<\/cpu\s*>)/g, spans);
  if (cpus.length > 1)
    throw new FerryError('XML_ERROR', 'XML error: the definition has more than one <cpu>');
  const [found] = cpus;
  if (found !== undefined) {
    const indent = indentAt(domainXml, found.index);
    return (
      domainXml.slice(0, found.index) +
      merged(cpuXml, found[0], indent) +
      domainXml.slice(found.index + found[0].length)
    );
  }
  for (const name of INSERT_BEFORE) {
    const [next] = matchesOutside(domainXml, new RegExp(`<${name}\\b`, 'g'), spans);
    if (next !== undefined) return insertAt(domainXml, next.index, cpuXml, '');
  }
  const [end] = matchesOutside(domainXml, /<\/domain\s*>/g, spans);
  if (end === undefined)
    throw new FerryError('XML_ERROR', 'XML error: no </domain> in the definition');
  return insertAt(domainXml, end.index, cpuXml, '  ');
}

/** Inserts the `<cpu>` before the element at `at`, on a line of its own at its indentation. */
function insertAt(xml: string, at: number, cpuXml: string, deeper: string): string {
  const indent = indentAt(xml, at);
  const inner = `${indent}${deeper}`;
  const text = indented(cpuXml, inner);
  // The element at `at` keeps its own indentation on the line after the new <cpu>.
  return `${xml.slice(0, at)}${deeper}${text}\n${indent}${xml.slice(at)}`;
}
