/**
 * Byte counts as virsh prints them (vshPrettyCapacity), shared by domjobinfo and the storage
 * messages.
 * @module
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/**
 * vshPrettyCapacity + `%-.3lf %s`: the largest binary unit below the value, three decimals.
 * Rounded in exact integer arithmetic, half to even as glibc's printf does for these exactly
 * representable quotients (Number#toFixed rounds ties up: 1.0625 → "1.063", printf → "1.062").
 */
export function formatCapacity(bytes: number): string {
  let exp = 0;
  while (exp < UNITS.length - 1 && bytes >= 1024 ** (exp + 1)) exp++;
  const divisor = 1024n ** BigInt(exp);
  const scaled = BigInt(Math.round(bytes)) * 1000n;
  let thousandths = scaled / divisor;
  const rest = scaled % divisor;
  if (rest * 2n > divisor || (rest * 2n === divisor && thousandths % 2n === 1n)) thousandths++;
  const whole = thousandths / 1000n;
  const frac = (thousandths % 1000n).toString().padStart(3, '0');
  return `${whole}.${frac} ${UNITS[exp] ?? 'B'}`;
}
