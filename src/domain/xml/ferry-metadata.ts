/**
 * Ferry's own per-domain settings, carried the way libvirt lets applications carry theirs: an
 * element in the application's namespace inside <metadata>, which libvirt's schema accepts and
 * libvirt keeps untouched:
 *
 *   <metadata>
 *     <ferry:watch xmlns:ferry='urn:ferry:domain:1.0' pvpanic='off'/>
 *   </metadata>
 *
 * `pvpanic='off'` opts the domain out of the pvpanic device Ferry gives every guest it starts.
 * The parser reads the settings from here; the <metadata> element itself is kept verbatim.
 * @module
 */
import type { Element } from '@xmldom/xmldom';
import { FerryError } from '../../common/errors.js';
import type { FerrySettings } from '../def.js';
import { attrsOf, childNodesOf, declaredPrefix, isElement } from './raw.js';
import { boolValue } from './reader.js';

/** The namespace of Ferry's metadata elements. */
export const FERRY_NS = 'urn:ferry:domain:1.0';

const WATCH_ATTRS = ['pvpanic'];

/** The settings in a <metadata> element, or undefined when it has no Ferry element. */
export function readFerrySettings(metadata: Element): FerrySettings | undefined {
  const watches = childNodesOf(metadata)
    .filter(isElement)
    .filter((el) => el.namespaceURI === FERRY_NS);
  let settings: FerrySettings | undefined;
  for (const el of watches) {
    // A typo in our own namespace would otherwise silently change nothing.
    if (el.localName !== 'watch') {
      throw new FerryError(
        'XML_ERROR',
        `Unknown element <${el.nodeName}> in Ferry's metadata namespace (expected watch)`,
      );
    }
    if (settings !== undefined) {
      throw new FerryError('XML_ERROR', `Duplicate <${el.nodeName}> element in <metadata>`);
    }
    for (const [name] of attrsOf(el)) {
      if (declaredPrefix(name) === undefined && !WATCH_ATTRS.includes(name)) {
        throw new FerryError(
          'XML_ERROR',
          `Unknown attribute '${name}' on <${el.nodeName}> (expected pvpanic)`,
        );
      }
    }
    const pvpanic = el.getAttributeNode('pvpanic')?.value;
    settings = {
      pvpanic: pvpanic === undefined ? true : boolValue(pvpanic, 'on', `<${el.nodeName}> pvpanic`),
    };
  }
  return settings;
}
