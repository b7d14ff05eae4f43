/**
 * What Ferry adds to a definition when it boots a guest, so that the live definition (dumpxml,
 * the status file, the XML a migration carries) shows every device the QEMU process has.
 * An incoming migration takes the source's live definition as it is: the destination's QEMU
 * must have exactly the source's devices.
 * @module
 */
import type { DomainDef } from './def.js';

/**
 * Whether a guest Ferry boots gets a pvpanic device: yes unless its definition opts out with
 * `<ferry:watch pvpanic='off'/>` in <metadata>. The device is how a panicking guest kernel
 * tells QEMU (GUEST_PANICKED), which is the evidence the post-migration watch relies on.
 */
export function wantsPvpanic(def: DomainDef): boolean {
  return def.ferry?.pvpanic !== false;
}

/** The definition a fresh boot of `def` runs with: an ISA pvpanic device unless opted out. */
export function withBootDefaults(def: DomainDef): DomainDef {
  if (!wantsPvpanic(def) || def.devices.panics.length > 0) return def;
  return { ...def, devices: { ...def.devices, panics: [{ model: 'isa', extra: [] }] } };
}
