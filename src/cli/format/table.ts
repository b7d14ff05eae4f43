/**
 * virsh's table layout (`vshTable`): a leading space, columns padded to their widest cell and
 * joined by three spaces, a dashed rule two characters longer than the header line. Scripts
 * parse this, so it must match byte for byte.
 * @module
 */

/** Formats a header row and data rows as virsh does, ending with a blank line. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    ' ' + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('   ');
  const head = ' ' + header.map((h, i) => h.padEnd(widths[i] ?? 0)).join('   ');
  const rule = '-'.repeat(head.length + 2);
  return [line(header), rule, ...rows.map(line), ''].join('\n') + '\n';
}

/** virsh's `Key:   value` lines: the key and its colon padded to 15 characters, then a space. */
export function formatKeyValues(pairs: readonly (readonly [string, string])[]): string {
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(15)} ${v}`).join('\n') + '\n\n';
}
