/**
 * libvirt domain XML: {@link parseDomainXml} turns it into a validated DomainDef and
 * {@link formatDomainXml} writes it back in libvirt's dumpxml style.
 * @module
 */
export { parseDomainXml, normaliseUuid } from './parse.js';
export type { ParseOptions } from './parse.js';
export { formatDomainXml } from './format.js';
export type { FormatOptions } from './format.js';
export { normaliseMac } from './parse-devices.js';
export { memoryToKiB, unitScale } from './units.js';
export { FERRY_NS } from './ferry-metadata.js';
