/**
 * Memory sizes with libvirt's units (virScaleInteger): decimal 'KB', 'MB', … are powers of
 * 1000; 'k', 'KiB', 'M', 'MiB', … are powers of 1024; 'b'/'bytes' are bytes. Case-insensitive.
 * @module
 */
import { FerryError } from '../../common/errors.js';

const PREFIXES = ['k', 'm', 'g', 't', 'p', 'e'];

/** Bytes per unit, or undefined for an unknown unit. */
export function unitScale(unit: string): bigint | undefined {
  const u = unit.toLowerCase();
  if (u === 'b' || u === 'byte' || u === 'bytes') return 1n;
  const power = PREFIXES.indexOf(u.charAt(0)) + 1;
  if (power === 0) return undefined;
  const rest = u.slice(1);
  if (rest === '' || rest === 'ib') return 1024n ** BigInt(power);
  if (rest === 'b') return 1000n ** BigInt(power);
  return undefined;
}

/**
 * Converts a memory size element's text and unit attribute to KiB, rounding up to a whole KiB
 * as libvirt does. `element` names the element in errors, e.g. 'memory'.
 * @throws {FerryError} XML_ERROR for a malformed number, an unknown unit or an unusable size.
 */
export function memoryToKiB(text: string, unit: string | undefined, element: string): number {
  const digits = text.trim();
  if (!/^[0-9]+$/.test(digits)) {
    throw new FerryError(
      'XML_ERROR',
      `Invalid <${element}> value '${digits}': expected a non-negative integer`,
    );
  }
  const scale = unitScale(unit ?? 'KiB');
  if (scale === undefined) {
    throw new FerryError('XML_ERROR', `Invalid unit '${unit ?? ''}' in <${element}>`);
  }
  const kib = (BigInt(digits) * scale + 1023n) / 1024n;
  if (kib > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new FerryError(
      'XML_ERROR',
      `Value of <${element}> is too large: ${digits} ${unit ?? 'KiB'}`,
    );
  }
  return Number(kib);
}
