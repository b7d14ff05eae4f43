/**
 * Reading `<cpu>` definitions from what users feed `cpu-baseline`/`cpu-compare` (one or more
 * `<cpu>` or host-model `<mode>` elements with no root, a domain, a capabilities or a
 * domcapabilities document, as virsh accepts), and writing a CPU as libvirt formats it.
 * @module
 */
import type { Element } from '@xmldom/xmldom';
import { FerryError } from '../common/errors.js';
import { parseXmlDocument } from '../domain/xml/syntax.js';
import type { X86CpuDef, X86CpuFeature, X86FeaturePolicy } from './x86-cpu.js';
import { childElements, firstChild, textOf } from './xml-util.js';

const POLICIES: readonly X86FeaturePolicy[] = ['force', 'require', 'optional', 'disable', 'forbid'];

/** A `<cpu>` (or host-model `<mode>`) element as the engine's definition. */
export function cpuDefFromElement(el: Element, archHint?: string): X86CpuDef {
  const archEl = firstChild(el, 'arch');
  // libvirt: a <cpu> with <arch> is a host CPU (policies ignored), otherwise a guest CPU.
  const type = archEl !== undefined && !el.hasAttribute('match') ? 'host' : 'guest';
  const modelEl = firstChild(el, 'model');
  const vendorEl = firstChild(el, 'vendor');
  const fallback = modelEl?.getAttribute('fallback');
  const match = el.getAttribute('match');
  const features: X86CpuFeature[] = [];
  for (const f of childElements(el, 'feature')) {
    const name = f.getAttribute('name') ?? '';
    if (name === '') throw new FerryError('XML_ERROR', 'XML error: missing CPU feature name');
    const policy = f.getAttribute('policy');
    if (policy !== null && policy !== '' && !POLICIES.includes(policy as X86FeaturePolicy)) {
      throw new FerryError('XML_ERROR', `XML error: invalid CPU feature policy '${policy}'`);
    }
    features.push({
      name,
      policy: policy === null || policy === '' ? 'require' : (policy as X86FeaturePolicy),
    });
  }
  const arch = archEl === undefined ? archHint : textOf(archEl);
  const model = modelEl === undefined ? undefined : textOf(modelEl);
  const vendor = vendorEl === undefined ? undefined : textOf(vendorEl);
  return {
    type,
    ...(arch === undefined || arch === '' ? {} : { arch }),
    ...(model === undefined || model === '' ? {} : { model }),
    ...(vendor === undefined || vendor === '' ? {} : { vendor }),
    ...(fallback === 'allow' || fallback === 'forbid' ? { fallback } : {}),
    ...(match === 'minimum' || match === 'exact' || match === 'strict' ? { match } : {}),
    features,
  };
}

function isHostModelMode(el: Element): boolean {
  return el.nodeName === 'mode' && el.getAttribute('name') === 'host-model';
}

/**
 * Every CPU definition in `text` (virsh's virshExtractCPUDefXMLs).
 * @throws {FerryError} XML_ERROR for bad XML, INVALID_ARG when there is no CPU in it.
 */
export function cpuDefsFromText(text: string, fileName: string): X86CpuDef[] {
  const body = text.replace(/^\s*<\?xml[^>]*\?>/, '');
  const root = parseXmlDocument(`<container>${body}</container>`).documentElement;
  const out: X86CpuDef[] = [];
  for (const el of root === null ? [] : childElements(root)) {
    if (el.nodeName === 'cpu' || isHostModelMode(el)) out.push(cpuDefFromElement(el));
    else if (el.nodeName === 'domain') {
      const cpu = firstChild(el, 'cpu');
      if (cpu !== undefined) out.push(cpuDefFromElement(cpu));
    } else if (el.nodeName === 'capabilities') {
      const host = firstChild(el, 'host');
      const cpu = host === undefined ? undefined : firstChild(host, 'cpu');
      if (cpu !== undefined) out.push(cpuDefFromElement(cpu));
    } else if (el.nodeName === 'domainCapabilities') {
      const archEl = firstChild(el, 'arch');
      const cpu = firstChild(el, 'cpu');
      const mode = cpu === undefined ? undefined : childElements(cpu, 'mode').find(isHostModelMode);
      if (mode !== undefined)
        out.push(cpuDefFromElement(mode, archEl === undefined ? undefined : textOf(archEl)));
    }
  }
  if (out.length === 0) {
    throw new FerryError(
      'INVALID_ARG',
      `File '${fileName}' does not contain any <cpu> element or valid domain XML, host capabilities XML, or domain capabilities XML`,
    );
  }
  return out;
}

export interface FormattedCpu {
  model: string;
  fallback?: 'allow' | 'forbid';
  vendor?: string;
  features: { name: string; policy: string }[];
}

/** `<cpu mode='custom' match='exact'>…</cpu>` as libvirt prints a baseline (2-space indent). */
export function formatGuestCpuXml(cpu: FormattedCpu, indent = ''): string {
  const i1 = `${indent}  `;
  const fb = cpu.fallback === undefined ? '' : ` fallback='${cpu.fallback}'`;
  const lines = [
    `${indent}<cpu mode='custom' match='exact'>`,
    `${i1}<model${fb}>${cpu.model}</model>`,
    ...(cpu.vendor === undefined ? [] : [`${i1}<vendor>${cpu.vendor}</vendor>`]),
    ...cpu.features.map((f) => `${i1}<feature policy='${f.policy}' name='${f.name}'/>`),
    `${indent}</cpu>`,
  ];
  return `${lines.join('\n')}\n`;
}
