/**
 * Small DOM helpers shared by the CPU map loader and the `<cpu>` readers.
 * @module
 */
import type { Element, Node } from '@xmldom/xmldom';
import { childNodesOf } from '../domain/xml/raw.js';

const ELEMENT_NODE = 1;

function isElement(node: Node): node is Element {
  return node.nodeType === ELEMENT_NODE;
}

/** Element children of `el`, optionally only those named `name`. */
export function childElements(el: Element, name?: string): Element[] {
  return childNodesOf(el).filter(
    (n): n is Element => isElement(n) && (name === undefined || n.nodeName === name),
  );
}

/** The first element child named `name`. */
export function firstChild(el: Element, name: string): Element | undefined {
  return childElements(el, name)[0];
}

/** The trimmed text of `el`. */
export function textOf(el: Element): string {
  return (el.textContent ?? '').trim();
}

/** Every element named `name` in document order, at any depth under `el` (itself included). */
export function descendants(el: Element, name: string): Element[] {
  const out: Element[] = [];
  const walk = (e: Element): void => {
    if (e.nodeName === name) {
      out.push(e);
      return;
    }
    for (const c of childElements(e)) walk(c);
  };
  walk(el);
  return out;
}
