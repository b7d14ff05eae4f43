/**
 * libvirt's x86 CPU map (/usr/share/libvirt/cpu_map: index.xml → x86_vendors.xml,
 * x86_features.xml, x86_<model>.xml), read as data: Ferry never calls libvirt, but it decodes
 * and compares CPUs against the same vendors, feature bits and named models, so its answers are
 * libvirt's. Loaded once per process.
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Element } from '@xmldom/xmldom';
import { FerryError, messageOf } from '../common/errors.js';
import { parseXmlDocument } from '../domain/xml/syntax.js';
import { X86Data, vendorData } from './x86-data.js';
import { childElements, firstChild } from './xml-util.js';

export const DEFAULT_CPU_MAP_DIR = '/usr/share/libvirt/cpu_map';

export interface X86Vendor {
  name: string;
  /** 'GenuineIntel', 'AuthenticAMD' */
  string: string;
  data: X86Data;
}

export interface X86Feature {
  name: string;
  data: X86Data;
  /** false for features libvirt drops from migratable CPUs (invtsc, xsaves). */
  migratable: boolean;
  /** Other spellings: QEMU's ('pclmulqdq', 'sse4_1') and Linux's ('md_clear'). */
  aliases: { name: string; source: string }[];
}

export interface X86Signature {
  family: number;
  model: number;
  /** Steppings that match; undefined = any. */
  steppings?: Set<number>;
}

export interface X86Model {
  name: string;
  decodeHost: boolean;
  decodeGuest: boolean;
  signatures: X86Signature[];
  vendor?: X86Vendor;
  data: X86Data;
  /** Features QEMU dropped from the model, listed as disabled in guest CPUs. */
  removedFeatures: string[];
}

export interface X86CpuMap {
  vendors: X86Vendor[];
  /** In the map's order, which is the order libvirt prints features in. */
  features: X86Feature[];
  /** In index.xml's order; decoding walks them newest (last) first. */
  models: X86Model[];
  featureByName: Map<string, X86Feature>;
  modelByName: Map<string, X86Model>;
}

function mapError(message: string, cause?: unknown): FerryError {
  return new FerryError('INTERNAL_ERROR', `CPU map: ${message}`, { cause });
}

function uint(el: Element, attr: string, required: boolean): number {
  const raw = el.getAttribute(attr);
  if (raw === null || raw === '') {
    if (required) throw mapError(`<${el.nodeName}> lacks ${attr}`);
    return 0;
  }
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw mapError(`bad ${attr}='${raw}'`);
  return n >>> 0;
}

function parseDataItems(el: Element): X86Data {
  const data = new X86Data();
  for (const c of childElements(el)) {
    if (c.nodeName === 'cpuid') {
      const key = X86Data.cpuidKey(uint(c, 'eax_in', true), uint(c, 'ecx_in', false));
      data.add(
        new X86Data().setItem(key, [
          uint(c, 'eax', false),
          uint(c, 'ebx', false),
          uint(c, 'ecx', false),
          uint(c, 'edx', false),
        ]),
      );
    } else if (c.nodeName === 'msr') {
      data.add(
        new X86Data().setItem(X86Data.msrKey(uint(c, 'index', true)), [
          uint(c, 'eax', true),
          uint(c, 'edx', true),
        ]),
      );
    }
  }
  return data;
}

function parseSteppings(text: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [a, b] = part.split('-').map((s) => Number(s.trim()));
    if (a === undefined || Number.isNaN(a)) continue;
    for (let i = a; i <= (b ?? a); i++) out.add(i);
  }
  return out;
}

function parseModel(el: Element, map: X86CpuMap): X86Model {
  const name = el.getAttribute('name') ?? '';
  const decode = firstChild(el, 'decode');
  const model: X86Model = {
    name,
    decodeHost: decode?.getAttribute('host') === 'on',
    decodeGuest: decode?.getAttribute('guest') === 'on',
    signatures: [],
    data: new X86Data(),
    removedFeatures: [],
  };
  const parentName = firstChild(el, 'model')?.getAttribute('name');
  if (parentName !== undefined && parentName !== null) {
    const parent = map.modelByName.get(parentName);
    if (parent === undefined) throw mapError(`model ${name}: unknown parent ${parentName}`);
    if (parent.vendor !== undefined) model.vendor = parent.vendor;
    model.signatures = [...parent.signatures];
    model.data = parent.data.copy();
  }
  const sigs = childElements(el, 'signature');
  if (sigs.length > 0) {
    model.signatures = sigs.map((s) => {
      const stepping = s.getAttribute('stepping');
      return {
        family: uint(s, 'family', true),
        model: uint(s, 'model', false),
        ...(stepping === null || stepping === '' ? {} : { steppings: parseSteppings(stepping) }),
      };
    });
  }
  const vendorName = firstChild(el, 'vendor')?.getAttribute('name');
  if (vendorName !== undefined && vendorName !== null) {
    const vendor = map.vendors.find((v) => v.name === vendorName);
    if (vendor === undefined) throw mapError(`model ${name}: unknown vendor ${vendorName}`);
    model.vendor = vendor;
  }
  for (const f of childElements(el, 'feature')) {
    const fname = f.getAttribute('name') ?? '';
    const feature = map.featureByName.get(fname);
    if (feature === undefined) throw mapError(`model ${name}: unknown feature ${fname}`);
    if (f.getAttribute('removed') === 'yes') model.removedFeatures.push(fname);
    else model.data.add(feature.data);
  }
  return model;
}

function readXml(dir: string, file: string): Element {
  let text: string;
  try {
    text = readFileSync(join(dir, file), 'utf8');
  } catch (err) {
    throw mapError(`cannot read ${join(dir, file)}: ${messageOf(err)}`, err);
  }
  const root = parseXmlDocument(text).documentElement;
  if (root === null) throw mapError(`${file} is empty`);
  return root;
}

/** Reads the x86 part of the CPU map in `dir`. */
export function loadX86CpuMap(dir: string = DEFAULT_CPU_MAP_DIR): X86CpuMap {
  const map: X86CpuMap = {
    vendors: [],
    features: [],
    models: [],
    featureByName: new Map(),
    modelByName: new Map(),
  };
  const index = readXml(dir, 'index.xml');
  const arch = childElements(index, 'arch').find((a) => a.getAttribute('name') === 'x86');
  if (arch === undefined) throw mapError(`${dir}/index.xml has no x86 arch`);
  for (const inc of childElements(arch, 'include')) {
    const root = readXml(dir, inc.getAttribute('filename') ?? '');
    for (const el of childElements(root)) {
      const name = el.getAttribute('name') ?? '';
      if (el.nodeName === 'vendor') {
        const string = el.getAttribute('string') ?? '';
        map.vendors.push({ name, string, data: vendorData(string) });
      } else if (el.nodeName === 'feature') {
        const feature: X86Feature = {
          name,
          data: parseDataItems(el),
          migratable: el.getAttribute('migratable') !== 'no',
          aliases: childElements(el, 'alias').map((a) => ({
            name: a.getAttribute('name') ?? '',
            source: a.getAttribute('source') ?? '',
          })),
        };
        map.features.push(feature);
        map.featureByName.set(name, feature);
      } else if (el.nodeName === 'model') {
        const model = parseModel(el, map);
        map.models.push(model);
        map.modelByName.set(name, model);
      }
    }
  }
  return map;
}

let cached: { dir: string; map: X86CpuMap } | undefined;

/** The map in `dir`, read on first use and kept for the process's life. */
export function x86CpuMap(dir: string = DEFAULT_CPU_MAP_DIR): X86CpuMap {
  if (cached?.dir !== dir) cached = { dir, map: loadX86CpuMap(dir) };
  return cached.map;
}

/** The cpu_map name of a feature spelled by QEMU or Linux ('pclmulqdq' → 'pclmuldq'). */
export function canonicalFeatureName(map: X86CpuMap, name: string): string | undefined {
  if (map.featureByName.has(name)) return name;
  for (const f of map.features) if (f.aliases.some((a) => a.name === name)) return f.name;
  const underscored = name.replace(/-/g, '_');
  if (map.featureByName.has(underscored)) return underscored;
  const dashed = name.replace(/_/g, '-');
  if (map.featureByName.has(dashed)) return dashed;
  return undefined;
}
