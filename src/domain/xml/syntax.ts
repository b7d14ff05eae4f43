/**
 * Turns XML text into a DOM with xmldom, but strictly: every problem xmldom reports (warnings
 * included, since its warnings are well-formedness errors such as unquoted attributes) becomes
 * an {@link XmlSyntaxError} with a reliable line and column.
 * @module
 */
import { DOMParser, normalizeLineEndings } from '@xmldom/xmldom';
import type { Document } from '@xmldom/xmldom';
import { XmlSyntaxError } from '../../common/errors.js';

interface Reported {
  level: 'warning' | 'error' | 'fatalError';
  message: string;
  line: number | undefined;
  column: number | undefined;
}

/** Thrown from onError to stop xmldom at the first problem; never escapes this module. */
class StopParsing extends Error {}

/** Maps character offsets in a text to 1-based line and column numbers. */
class Positions {
  readonly #lineStarts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
      this.#lineStarts.push(i + 1);
    }
  }

  at(offset: number): { line: number; column: number } {
    let line = 0;
    while (line + 1 < this.#lineStarts.length && (this.#lineStarts[line + 1] ?? 0) <= offset) {
      line++;
    }
    return { line: line + 1, column: offset - (this.#lineStarts[line] ?? 0) + 1 };
  }

  offsetOf(line: number, column: number): number {
    return (this.#lineStarts[line - 1] ?? this.text.length) + column - 1;
  }
}

function fail(pos: Positions, message: string, offset: number): never {
  const { line, column } = pos.at(Math.max(0, Math.min(offset, pos.text.length)));
  throw new XmlSyntaxError(message, line, column);
}

/** Blanks out comments, CDATA sections and processing instructions, keeping offsets. */
function maskNonMarkup(text: string): string {
  return text.replace(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>/g, (m) =>
    ' '.repeat(m.length),
  );
}

/** The offset of the first non-blank character at or after `from` (or `from` if none). */
function firstNonBlank(text: string, from: number): number {
  const m = /\S/.exec(text.slice(from));
  return m === null ? from : from + m.index;
}

/**
 * Checks what xmldom lets through or cannot locate: DOCTYPE/ENTITY declarations (refused
 * outright, so no entity expansion can ever happen) and bare '&' (xmldom keeps it as text).
 */
function precheck(pos: Positions): void {
  const text = pos.text;
  if (text.trim() === '') fail(pos, 'XML error: document is empty', 0);
  const masked = maskNonMarkup(text);
  const decl = /<!(DOCTYPE|ENTITY)/i.exec(masked);
  if (decl !== null) fail(pos, 'XML DOCTYPE declarations are not allowed', decl.index);
  const amp = /&(?![A-Za-z_:][\w.:-]*;|#[0-9]+;|#x[0-9A-Fa-f]+;)/.exec(masked);
  if (amp !== null) fail(pos, "XML error: unescaped '&' (write it as &amp;)", amp.index);
}

/** Where xmldom's locator pointed, as an offset, or undefined when it had not started. */
function locatorOffset(pos: Positions, r: Reported): number | undefined {
  if (r.line === undefined || r.line < 1) return undefined;
  return pos.offsetOf(r.line, r.column ?? 1);
}

/**
 * Rewrites one xmldom report as a libxml2-like message at the offending position. xmldom's
 * locator only moves at start tags and text, so errors found at an end tag or at the end of
 * the input are located by searching the source from the locator onwards.
 */
function toSyntaxError(pos: Positions, r: Reported): never {
  const text = pos.text;
  const from = locatorOffset(pos, r) ?? 0;
  let m: RegExpExecArray | null;
  if ((m = /^Opening and ending tag mismatch: "([^"]*)" != "([^"]*)"/.exec(r.message))) {
    const [, open = '', close = ''] = m;
    const at = text.indexOf(`</${close}`, from);
    fail(pos, `XML error: mismatched tag </${close}>, expected </${open}>`, at < 0 ? from : at);
  }
  if ((m = /^unclosed xml tag\(s\): (.*)$/.exec(r.message))) {
    const tags = (m[1] ?? '').split(', ').map((t) => `<${t}>`);
    const what = tags.length === 1 ? `tag ${tags.join('')}` : `tags ${tags.join(', ')}`;
    fail(pos, `XML error: premature end of data: unclosed ${what}`, text.trimEnd().length);
  }
  if (r.message.startsWith('Extra content at the end of the document')) {
    fail(pos, 'XML error: extra content at the end of the document', extraContent(text));
  }
  if (r.message.startsWith('Unexpected content outside root element')) {
    fail(pos, 'XML error: text outside the root element', firstNonBlank(text, from));
  }
  if (r.message === 'missing root element') {
    fail(pos, "XML error: start tag expected, '<' not found", firstNonBlank(text, 0));
  }
  if (r.message.startsWith('Error constructing the DOM: HierarchyRequestError')) {
    fail(pos, 'XML error: extra content at the end of the document', from);
  }
  if ((m = /^entity not found:(&[^;]*;)/.exec(r.message))) {
    const ref = m[1] ?? '&';
    const at = text.indexOf(ref, from);
    fail(pos, `XML error: undefined entity ${ref}`, at < 0 ? from : at);
  }
  if (r.message.includes('NamespaceError')) {
    const prefix = /^<([^\s/>:]+):/.exec(text.slice(from));
    const what = prefix === null ? 'a namespace prefix' : `namespace prefix '${prefix[1] ?? ''}'`;
    fail(pos, `XML error: ${what} is used but not declared`, from);
  }
  const at = /at position (\d+)$/.exec(r.message);
  const reworded = REWORDED.reduce((msg, [re, by]) => msg.replace(re, by), r.message);
  const cleaned = reworded.replace(/ at position \d+$/, '').replace(/[:!]+$/, '');
  const where = at === null ? from : Number(at[1]);
  fail(pos, `XML error: ${cleaned.charAt(0).toLowerCase()}${cleaned.slice(1)}`, where);
}

/** xmldom's wordings that read badly, rewritten after libxml2's. */
const REWORDED: [RegExp, string][] = [
  [/^element parse error: (Error: )?/, ''],
  [/^Error constructing the DOM: /, ''],
  [/^attribute "(.*)" missed (start )?quot.*$/, 'attribute value $1 is not quoted'],
  [/^attribute "(.*)" missed value.*$/, "attribute '$1' has no value"],
  [/^attribute value must after "="$/, "attribute value expected after '='"],
  [/^attribute space is required"(.*)"!*$/, "whitespace required before attribute '$1'"],
  [/^attribute value no end '(.)' match$/, 'attribute value has no closing $1'],
  [/^Attribute (\S+) redefined$/, "attribute '$1' redefined"],
  [/^invalid tagName:?$/, 'invalid element name'],
];

/** Start of the non-blank text that follows the last tag of the document. */
function extraContent(text: string): number {
  return firstNonBlank(text, text.lastIndexOf('>') + 1);
}

/**
 * Parses XML text into a DOM document.
 * @throws {XmlSyntaxError} for any well-formedness problem, DOCTYPE or ENTITY declaration.
 */
export function parseXmlDocument(source: string): Document {
  // Positions refer to the normalised text, which has the same lines as the original.
  const pos = new Positions(normalizeLineEndings(source));
  precheck(pos);
  // A holder rather than a `let`: it is assigned inside the callback.
  const seen: { first?: Reported } = {};
  const parser = new DOMParser({
    normalizeLineEndings: (s) => s,
    onError: (level, message, context: unknown) => {
      // U+FFFD is a legal character: the warning only guesses at an encoding problem.
      if (level === 'warning' && message.startsWith('Unicode replacement character')) return;
      seen.first ??= { level, message, ...locatorOf(context) };
      throw new StopParsing(message);
    },
  });
  let doc: Document | undefined;
  try {
    doc = parser.parseFromString(pos.text, 'text/xml');
  } catch (err) {
    if (seen.first === undefined) {
      fail(pos, `XML error: ${err instanceof Error ? err.message : String(err)}`, 0);
    }
  }
  if (seen.first !== undefined) toSyntaxError(pos, seen.first);
  if (doc === undefined) fail(pos, 'XML error: no document', 0);
  return doc;
}

/** Reads the line/column xmldom's DOM handler (the onError context) had reached. */
function locatorOf(context: unknown): { line: number | undefined; column: number | undefined } {
  const locator: unknown =
    typeof context === 'object' && context !== null && 'locator' in context
      ? context.locator
      : undefined;
  if (typeof locator !== 'object' || locator === null)
    return { line: undefined, column: undefined };
  const line = 'lineNumber' in locator ? locator.lineNumber : undefined;
  const column = 'columnNumber' in locator ? locator.columnNumber : undefined;
  return {
    line: typeof line === 'number' ? line : undefined,
    column: typeof column === 'number' ? column : undefined,
  };
}
