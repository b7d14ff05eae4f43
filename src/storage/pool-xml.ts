/**
 * libvirt's storage pool XML, in (parse) and out (format), laid out as libvirt 9 writes it.
 * The persisted definition is this XML, so a file written by either can be read by the other.
 * @module
 */
import type { Element } from '@xmldom/xmldom';
import { FerryError } from '../common/errors.js';
import { escapeAttr, escapeText } from '../domain/xml/raw.js';
import { parseXmlDocument } from '../domain/xml/syntax.js';
import { checkPoolDef, poolTypeOf, type PoolDef, type PoolSource } from './pool-def.js';

/** What an active pool adds to its XML: sizes and the target directory's permissions. */
export interface PoolLiveFacts {
  capacity: number;
  allocation: number;
  available: number;
  permissions?: { mode: number; owner: number; group: number };
}

function invalid(message: string): FerryError {
  return new FerryError('XML_ERROR', `XML error: ${message}`);
}

function childElements(el: Element, name: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n !== null; n = n.nextSibling)
    if (n.nodeType === 1 && (n as Element).tagName === name) out.push(n as Element);
  return out;
}

function onlyChild(el: Element, name: string): Element | undefined {
  const found = childElements(el, name);
  if (found.length > 1) throw invalid(`element <${name}> appears more than once`);
  return found[0];
}

function textOf(el: Element | undefined): string | undefined {
  const text = el?.textContent?.trim();
  return text === undefined || text === '' ? undefined : text;
}

function attrOf(el: Element | undefined, name: string): string | undefined {
  const v = el?.getAttribute(name);
  return v === null || v === undefined || v === '' ? undefined : v;
}

function parseSource(el: Element | undefined): PoolSource {
  const source: PoolSource = {};
  if (el === undefined) return source;
  const host = onlyChild(el, 'host');
  const hostName = attrOf(host, 'name');
  if (hostName !== undefined) {
    const portText = attrOf(host, 'port');
    const port = portText === undefined ? undefined : Number(portText);
    if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535))
      throw invalid(`Invalid port '${portText ?? ''}' of storage pool source host '${hostName}'`);
    source.host = port === undefined ? { name: hostName } : { name: hostName, port };
  }
  const dir = attrOf(onlyChild(el, 'dir'), 'path');
  if (dir !== undefined) source.dir = dir;
  const device = attrOf(onlyChild(el, 'device'), 'path');
  if (device !== undefined) source.device = device;
  const name = textOf(onlyChild(el, 'name'));
  if (name !== undefined) source.name = name;
  const format = attrOf(onlyChild(el, 'format'), 'type');
  if (format !== undefined) source.format = format;
  return source;
}

/** Parses and checks a `<pool>` document. A missing UUID is left empty for the caller to fill. */
export function parsePoolXml(xml: string): PoolDef {
  const root = parseXmlDocument(xml).documentElement;
  if (root === null || root.tagName !== 'pool')
    throw invalid(`expected root element <pool>, found <${root?.tagName ?? ''}>`);
  const type = poolTypeOf(root.getAttribute('type') ?? '');
  const name = textOf(onlyChild(root, 'name'));
  if (name === undefined) throw invalid('missing pool source name element');
  const uuid = textOf(onlyChild(root, 'uuid')) ?? '';
  if (uuid !== '' && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid))
    throw invalid(`malformed uuid element '${uuid}'`);
  const target = textOf(onlyChild(onlyChild(root, 'target') ?? root, 'path'));
  const def: PoolDef = {
    type,
    name,
    uuid: uuid.toLowerCase(),
    source: parseSource(onlyChild(root, 'source')),
    ...(target === undefined ? {} : { target }),
  };
  checkPoolDef(def);
  return def;
}

function sourceLines(source: PoolSource, type: PoolDef['type']): string[] {
  const lines: string[] = [];
  const { host } = source;
  if (host !== undefined)
    lines.push(
      `<host name='${escapeAttr(host.name)}'${host.port === undefined ? '' : ` port='${host.port}'`}/>`,
    );
  if (source.device !== undefined) lines.push(`<device path='${escapeAttr(source.device)}'/>`);
  if (source.dir !== undefined) lines.push(`<dir path='${escapeAttr(source.dir)}'/>`);
  if (source.name !== undefined) lines.push(`<name>${escapeText(source.name)}</name>`);
  // libvirt writes netfs's format even when defaulted ('auto').
  const format = source.format ?? (type === 'netfs' ? 'auto' : undefined);
  if (format !== undefined) lines.push(`<format type='${escapeAttr(format)}'/>`);
  return lines;
}

/**
 * The pool's XML as `virsh pool-dumpxml` shows it: sizes are zero unless `live` gives them;
 * an active dir pool also shows its target's permissions.
 */
export function formatPoolXml(def: PoolDef, live?: PoolLiveFacts): string {
  const size = (tag: string, n: number): string => `  <${tag} unit='bytes'>${n}</${tag}>`;
  const lines = [
    `<pool type='${def.type}'>`,
    `  <name>${escapeText(def.name)}</name>`,
    `  <uuid>${def.uuid}</uuid>`,
    size('capacity', live?.capacity ?? 0),
    size('allocation', live?.allocation ?? 0),
    size('available', live?.available ?? 0),
    '  <source>',
    ...sourceLines(def.source, def.type).map((l) => `    ${l}`),
    '  </source>',
  ];
  if (def.target !== undefined) {
    lines.push('  <target>', `    <path>${escapeText(def.target)}</path>`);
    const p = live?.permissions;
    if (p !== undefined)
      lines.push(
        '    <permissions>',
        `      <mode>${p.mode.toString(8).padStart(4, '0')}</mode>`,
        `      <owner>${p.owner}</owner>`,
        `      <group>${p.group}</group>`,
        '    </permissions>',
      );
    lines.push('  </target>');
  }
  lines.push('</pool>');
  return lines.join('\n') + '\n';
}
