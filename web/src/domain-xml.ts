/**
 * What the guest page reads from a domain's XML (domain.getXml): the CPU, the machine type
 * and the disks. Takes a parsed document (the browser's DOMParser; tests use xmldom), so it
 * stays DOM-free.
 * @module
 */

/** The part of a DOM element this module uses; the browser's and xmldom's both fit. */
export interface XmlElement {
  readonly tagName: string;
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  getElementsByTagName(name: string): ArrayLike<XmlElement>;
}

export interface DiskRow {
  target: string;
  source: string;
  format: string;
  bus: string;
}

export interface DomainXmlSummary {
  cpu: string;
  machine: string;
  disks: DiskRow[];
}

function first(el: XmlElement, tag: string): XmlElement | undefined {
  return el.getElementsByTagName(tag)[0];
}

function attr(el: XmlElement | undefined, name: string): string | undefined {
  const v = el?.getAttribute(name);
  return v === null || v === undefined || v === '' ? undefined : v;
}

/** "host-model", "host-passthrough", "custom: Skylake-Client", or QEMU's default model. */
function cpuText(root: XmlElement): string {
  const cpu = first(root, 'cpu');
  if (cpu === undefined) return 'QEMU default';
  const model = first(cpu, 'model')?.textContent?.trim();
  const mode = attr(cpu, 'mode') ?? 'custom';
  if (mode === 'custom') return model === undefined || model === '' ? 'QEMU default' : model;
  return model === undefined || model === '' ? mode : `${mode} (${model})`;
}

/** The summary of `<domain>`; fields the XML lacks read "—". */
export function summarizeDomainXml(root: XmlElement): DomainXmlSummary {
  const os = first(root, 'os');
  const machine = attr(os === undefined ? undefined : first(os, 'type'), 'machine') ?? '—';
  const disks: DiskRow[] = [];
  const devices = first(root, 'devices');
  const list = devices === undefined ? [] : Array.from(devices.getElementsByTagName('disk'));
  for (const disk of list) {
    const source = first(disk, 'source');
    const target = first(disk, 'target');
    disks.push({
      target: attr(target, 'dev') ?? '—',
      source: attr(source, 'file') ?? attr(source, 'dev') ?? attr(source, 'name') ?? '(no medium)',
      format: attr(first(disk, 'driver'), 'type') ?? '—',
      bus: attr(target, 'bus') ?? '—',
    });
  }
  return { cpu: cpuText(root), machine, disks };
}
