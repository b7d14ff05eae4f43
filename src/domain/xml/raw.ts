/**
 * Verbatim XML for elements Ferry does not model: serialised in libvirt's style (single quotes,
 * two-space indentation) so the formatter can re-indent them without changing their meaning.
 *
 * The one invariant the formatter relies on: in a fragment made here, a line break directly
 * between a '>' and (after spaces) a '<' is never character data, so it may be re-indented.
 * Character data keeps its line breaks except a break that would look like indentation, which
 * is written as `&#10;`.
 * @module
 */
import type { Element, Node } from '@xmldom/xmldom';
import type { RawXml } from '../def.js';

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const PROCESSING_INSTRUCTION_NODE = 7;
const COMMENT_NODE = 8;

/** Escapes character data the way libvirt does (it also escapes quotes). */
export function escapeText(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/'/g, '&apos;')
    .replace(/"/g, '&quot;')
    .replace(/\r/g, '&#13;');
}

/** Escapes an attribute value; whitespace other than spaces would be normalised away. */
export function escapeAttr(value: string): string {
  return escapeText(value).replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

/** Renders attributes as ` name='value'` pairs in the given order. */
export function attrsText(attrs: Iterable<[string, string]>): string {
  let out = '';
  for (const [name, value] of attrs) out += ` ${name}='${escapeAttr(value)}'`;
  return out;
}

/**
 * Re-indents a verbatim fragment to sit `indent` deep: only line breaks between tags move
 * (see the module invariant), so character data is never altered.
 */
export function indentRaw(raw: RawXml, indent: string): string {
  return indent + raw.replace(/>\n(?=[ \t]*<)/g, `>\n${indent}`);
}

/** Child nodes of an element, as an array. */
export function childNodesOf(el: Element): Node[] {
  const out: Node[] = [];
  for (let i = 0; i < el.childNodes.length; i++) {
    const child = el.childNodes.item(i);
    if (child !== null) out.push(child);
  }
  return out;
}

/** Attributes of an element in document order, as [qualified name, value] pairs. */
export function attrsOf(el: Element): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < el.attributes.length; i++) {
    const attr = el.attributes.item(i);
    if (attr !== null) out.push([attr.name, attr.value]);
  }
  return out;
}

function isElement(node: Node): node is Element {
  return node.nodeType === ELEMENT_NODE;
}

/** Elements, comments and processing instructions: nodes that each get a line of their own. */
function isMarkup(node: Node): boolean {
  return (
    node.nodeType === ELEMENT_NODE ||
    node.nodeType === COMMENT_NODE ||
    node.nodeType === PROCESSING_INSTRUCTION_NODE
  );
}

function isCharData(node: Node): boolean {
  return node.nodeType === TEXT_NODE || node.nodeType === CDATA_SECTION_NODE;
}

/** Prefix ('' for the default namespace) of `xmlns` / `xmlns:p` attributes, else undefined. */
export function declaredPrefix(attrName: string): string | undefined {
  if (attrName === 'xmlns') return '';
  return attrName.startsWith('xmlns:') ? attrName.slice(6) : undefined;
}

/**
 * Namespace declarations a fragment needs but does not contain: prefixes it uses that are
 * declared outside it, unless <domain> declares them with the same URI (the formatter writes
 * those on <domain>, as libvirt does for xmlns:qemu).
 */
function neededNamespaces(
  el: Element,
  inScope: ReadonlySet<string>,
  rootNs: Readonly<Record<string, string>>,
  needed: Map<string, string>,
): void {
  const local = new Set(inScope);
  for (const [name] of attrsOf(el)) {
    const prefix = declaredPrefix(name);
    if (prefix !== undefined) local.add(prefix);
  }
  // The parser resolved every name already: its namespaceURI is the in-scope binding.
  const use = (prefix: string, uri: string | null): void => {
    if (prefix === 'xml' || prefix === 'xmlns' || local.has(prefix) || needed.has(prefix)) return;
    if ((rootNs[prefix] ?? '') === (uri ?? '')) return;
    needed.set(prefix, uri ?? '');
  };
  use(el.prefix ?? '', el.namespaceURI);
  for (let i = 0; i < el.attributes.length; i++) {
    const attr = el.attributes.item(i);
    // Unprefixed attributes are in no namespace, whatever the default namespace is.
    if (attr?.prefix && declaredPrefix(attr.name) === undefined)
      use(attr.prefix, attr.namespaceURI);
  }
  for (const child of childNodesOf(el)) {
    if (isElement(child)) neededNamespaces(child, local, rootNs, needed);
  }
}

function serialiseNode(node: Node, depth: number, out: string[]): void {
  if (isElement(node)) {
    serialiseElement(node, [], depth, out);
  } else if (isCharData(node)) {
    out.push(charData(node.nodeValue ?? ''));
  } else if (node.nodeType === COMMENT_NODE) {
    out.push(`<!--${node.nodeValue ?? ''}-->`);
  } else if (node.nodeType === PROCESSING_INSTRUCTION_NODE) {
    const data = node.nodeValue ?? '';
    out.push(`<?${node.nodeName}${data === '' ? '' : ` ${data}`}?>`);
  }
}

/**
 * Escapes character data that sits between two tags; a lone line break (plus blanks) would
 * pass for indentation when re-indented, so it is written as a character reference.
 */
export function charData(value: string): string {
  const escaped = escapeText(value);
  return /^\n[ \t]*$/.test(value) ? `&#10;${escaped.slice(1)}` : escaped;
}

function serialiseElement(
  el: Element,
  extraDecls: [string, string][],
  depth: number,
  out: string[],
): void {
  const open = `<${el.nodeName}${attrsText([...attrsOf(el), ...extraDecls])}`;
  const children = childNodesOf(el).filter((n) => isCharData(n) || isMarkup(n));
  if (children.length === 0) {
    out.push(`${open}/>`);
    return;
  }
  // Element-only content (blank text between elements) is pretty-printed; anything with real
  // text is mixed content and is written exactly as it came.
  const elementOnly =
    children.some(isMarkup) &&
    children.every((n) => !isCharData(n) || (n.nodeValue ?? '').trim() === '');
  out.push(`${open}>`);
  if (elementOnly) {
    const inner = '  '.repeat(depth + 1);
    for (const child of children) {
      if (isCharData(child)) continue;
      out.push(`\n${inner}`);
      serialiseNode(child, depth + 1, out);
    }
    out.push(`\n${'  '.repeat(depth)}`);
  } else {
    for (const child of children) serialiseNode(child, depth + 1, out);
  }
  out.push(`</${el.nodeName}>`);
}

/**
 * Serialises an element Ferry does not model, keeping its attributes as written and adding the
 * namespace declarations it inherits from anywhere but <domain> (whose declarations are kept
 * in `DomainDef.namespaces`).
 */
export function serialiseRaw(el: Element, rootNs: Readonly<Record<string, string>>): RawXml {
  const needed = new Map<string, string>();
  neededNamespaces(el, new Set(), rootNs, needed);
  const decls = [...needed].map(([p, uri]): [string, string] => [
    p === '' ? 'xmlns' : `xmlns:${p}`,
    uri,
  ]);
  const out: string[] = [];
  serialiseElement(el, decls, 0, out);
  return out.join('');
}

/** Serialises the children of an element (used for a feature's sub-elements). */
export function serialiseChildren(el: Element, rootNs: Readonly<Record<string, string>>): RawXml[] {
  return childNodesOf(el)
    .filter(isElement)
    .map((child) => serialiseRaw(child, rootNs));
}

export { isElement };
