/**
 * The devices check: anything in a definition that ties the guest to the host it runs on —
 * PCI/USB/SCSI passthrough (`<hostdev>`), mediated devices such as a vGPU (`type='mdev'`),
 * SR-IOV virtual functions (`<interface type='hostdev'>`), a host TPM, host input devices,
 * host smartcards, shared host directories — named one by one, because the chapter's
 * migration cannot take a device that exists only on this host.
 * @module
 */
import type { Element } from '@xmldom/xmldom';
import type { DomainDef } from '../domain/def.js';
import { parseXmlDocument } from '../domain/xml/syntax.js';
import type { PreflightVerdict } from '../rpc/schema/preflight.js';

function rootOf(raw: string): Element | undefined {
  try {
    return parseXmlDocument(raw).documentElement ?? undefined;
  } catch {
    return undefined;
  }
}

function childElements(el: Element, name: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n !== null; n = n.nextSibling)
    if (n.nodeType === 1 && n.nodeName === name) out.push(n as Element);
  return out;
}

function first(el: Element | undefined, ...path: string[]): Element | undefined {
  let cur = el;
  for (const name of path) cur = cur === undefined ? undefined : childElements(cur, name)[0];
  return cur;
}

function attr(el: Element | undefined, name: string): string | undefined {
  const v = el?.getAttribute(name);
  return v === null || v === undefined || v === '' ? undefined : v;
}

/** '0x0000','0x3b','0x00','0x1' → '0000:3b:00.1' (lspci's form). */
function pciAddress(a: Element | undefined): string | undefined {
  if (a === undefined || attr(a, 'bus') === undefined) return undefined;
  const hex = (v: string | undefined, width: number): string =>
    Number.parseInt(v ?? '0', v?.startsWith('0x') === true ? 16 : 10)
      .toString(16)
      .padStart(width, '0');
  return `${hex(attr(a, 'domain'), 4)}:${hex(attr(a, 'bus'), 2)}:${hex(attr(a, 'slot'), 2)}.${hex(attr(a, 'function'), 1)}`;
}

function hex4(v: string | undefined): string {
  return (v ?? '?').replace(/^0x/i, '').toLowerCase().padStart(4, '0');
}

/** How one `<hostdev>` is named in the report. */
function describeHostdev(el: Element): string {
  const mode = attr(el, 'mode') ?? 'subsystem';
  const type = attr(el, 'type') ?? '?';
  const source = first(el, 'source');
  if (mode === 'capabilities') {
    const dev = first(source, 'block')?.textContent ?? first(source, 'char')?.textContent;
    const iface = first(source, 'interface')?.textContent;
    const what = dev ?? iface;
    return `hostdev capabilities ${type}${what === undefined || what === null ? '' : ` ${what.trim()}`}`;
  }
  switch (type) {
    case 'pci':
      return `hostdev pci ${pciAddress(first(source, 'address')) ?? '(no address)'}`;
    case 'usb': {
      const vendor = attr(first(source, 'vendor'), 'id');
      const product = attr(first(source, 'product'), 'id');
      if (vendor !== undefined || product !== undefined)
        return `hostdev usb ${hex4(vendor)}:${hex4(product)}`;
      const a = first(source, 'address');
      return `hostdev usb bus ${attr(a, 'bus') ?? '?'} device ${attr(a, 'device') ?? '?'}`;
    }
    case 'mdev': {
      const uuid = attr(first(source, 'address'), 'uuid') ?? '(no uuid)';
      const model = attr(el, 'model');
      const kind = model === 'vfio-pci' || model === undefined ? 'vGPU' : model;
      return `mdev ${kind} uuid ${uuid}`;
    }
    case 'scsi': {
      const adapter = attr(first(source, 'adapter'), 'name');
      const a = first(source, 'address');
      return `hostdev scsi ${adapter ?? ''}${a === undefined ? '' : ` ${attr(a, 'bus') ?? '0'}:${attr(a, 'target') ?? '0'}:${attr(a, 'unit') ?? '0'}`}`.trimEnd();
    }
    default:
      return `hostdev ${type}`;
  }
}

/** How one `<interface type='hostdev'>` is named. */
function describeVf(el: Element): string {
  const mac = attr(first(el, 'mac'), 'address');
  const pci = pciAddress(first(el, 'source', 'address'));
  return `interface type='hostdev' (SR-IOV VF)${mac === undefined ? '' : ` mac ${mac}`}${pci === undefined ? '' : ` pci ${pci}`}`;
}

/** Verbatim device elements (kept unmodelled) that also use the host's own hardware. */
function describeOther(el: Element): string | undefined {
  switch (el.nodeName) {
    case 'tpm': {
      const backend = attr(first(el, 'backend'), 'type');
      return backend === 'passthrough'
        ? `tpm passthrough ${attr(first(el, 'backend', 'device'), 'path') ?? ''}`.trimEnd()
        : undefined;
    }
    case 'input': {
      const type = attr(el, 'type');
      return type === 'passthrough' || type === 'evdev'
        ? `input ${type} ${attr(first(el, 'source'), 'evdev') ?? attr(first(el, 'source'), 'dev') ?? ''}`.trimEnd()
        : undefined;
    }
    case 'smartcard':
      return attr(el, 'mode') === 'host' ? 'smartcard mode host' : undefined;
    case 'filesystem': {
      const dir = attr(first(el, 'source'), 'dir');
      return `filesystem (host directory${dir === undefined ? '' : ` ${dir}`})`;
    }
    default:
      return undefined;
  }
}

/** The devices of `def` that pin it to its host, each named ("hostdev pci 0000:3b:00.1"). */
export function hostPinnedDevices(def: DomainDef): string[] {
  const out: string[] = [];
  for (const h of def.devices.hostdevs) {
    const el = rootOf(h.raw);
    if (el === undefined)
      out.push(h.element === 'interface' ? "interface type='hostdev'" : 'hostdev');
    else out.push(h.element === 'interface' ? describeVf(el) : describeHostdev(el));
  }
  for (const raw of def.devices.extra) {
    const el = rootOf(raw);
    const named = el === undefined ? undefined : describeOther(el);
    if (named !== undefined) out.push(named);
  }
  return out;
}

/** The check's verdict: fail naming every pinned device, pass otherwise. */
export function checkDevices(def: DomainDef): { verdict: PreflightVerdict; reason: string } {
  const pinned = hostPinnedDevices(def);
  if (pinned.length === 0)
    return { verdict: 'pass', reason: 'no host devices (passthrough, vGPU, SR-IOV) pin the guest' };
  return {
    verdict: 'fail',
    reason: `${pinned.join(', ')}: ${pinned.length === 1 ? 'this device exists' : 'these devices exist'} only on the source host`,
  };
}
