/**
 * Sizes the way virsh reads and prints them: `10G`, `512M`, `10GiB`, `1KB` in (libvirt's
 * virScaleInteger), `1.00 GiB` out (vshPrettyCapacity). Shared by the CLI, which parses a
 * capacity before it calls ferryd, and by ferryd's own checks.
 * @module
 */
import { FerryError } from './errors.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;
const POWERS: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5, e: 6 };

/**
 * The bytes a size names: digits, then an optional suffix (`b`/`byte`/`bytes`; `k m g t p e`
 * alone or with `iB` for powers of 1024, with `B` for powers of 1000; case-insensitive as
 * libvirt's). Throws INVALID_ARG with virsh's wording ("Malformed size X", and the reason as
 * cause) for anything else, including sizes beyond 2^53 bytes.
 */
export function parseSize(text: string): number {
  const m = /^\s*(\d+)(.*)$/s.exec(text);
  if (m === null) throw malformed(text);
  const [, digits = '', suffix = ''] = m;
  let scale: number;
  if (suffix === '' || /^(b|bytes?)$/i.test(suffix)) scale = 1;
  else {
    const power = POWERS[suffix.charAt(0).toLowerCase()];
    const rest = suffix.slice(1);
    const base =
      rest === '' || rest.toLowerCase() === 'ib' ? 1024 : rest.toLowerCase() === 'b' ? 1000 : 0;
    if (power === undefined || base === 0)
      throw malformed(text, `invalid argument: unknown suffix '${suffix}'`);
    scale = base ** power;
  }
  const value = Number(digits) * scale;
  if (!Number.isSafeInteger(value))
    throw malformed(text, `invalid argument: value too large: ${digits}${suffix}`);
  return value;
}

function malformed(text: string, reason?: string): FerryError {
  return new FerryError('INVALID_ARG', `Malformed size ${text}`, {
    ...(reason === undefined ? {} : { cause: new FerryError('INVALID_ARG', reason) }),
  });
}

/** virsh's `1.00 GiB`, `512.00 MiB`, `100.00 B`: two decimals in the largest unit below 1024. */
export function formatCapacity(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)} ${UNITS[unit] ?? 'B'}`;
}
