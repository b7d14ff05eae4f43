/**
 * A volume's XML as `virsh vol-dumpxml` shows it (libvirt's layout; permissions and
 * timestamps are left out).
 * @module
 */
import { escapeAttr, escapeText } from '../domain/xml/raw.js';
import type { VolumeInfo } from './backend.js';

export function formatVolumeXml(vol: VolumeInfo): string {
  const size = (tag: string, n: number): string => `  <${tag} unit='bytes'>${n}</${tag}>`;
  const lines = [
    `<volume type='${vol.type}'>`,
    `  <name>${escapeText(vol.name)}</name>`,
    `  <key>${escapeText(vol.key)}</key>`,
    size('capacity', vol.capacity),
    size('allocation', vol.allocation),
    '  <target>',
    `    <path>${escapeText(vol.path)}</path>`,
    `    <format type='${escapeAttr(vol.format)}'/>`,
    '  </target>',
  ];
  if (vol.backing !== undefined) {
    lines.push('  <backingStore>', `    <path>${escapeText(vol.backing.path)}</path>`);
    if (vol.backing.format !== undefined)
      lines.push(`    <format type='${escapeAttr(vol.backing.format)}'/>`);
    lines.push('  </backingStore>');
  }
  lines.push('</volume>');
  return lines.join('\n') + '\n';
}
