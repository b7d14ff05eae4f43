/** min / median / max of a sample, and a fixed-width line for reports. */
export interface Summary {
  n: number;
  min: number;
  median: number;
  max: number;
}

export function summarise(xs: readonly number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
  return { n: s.length, min: s[0] ?? NaN, median, max: s.at(-1) ?? NaN };
}

export function line(label: string, s: Summary, unit: string, digits = 1): string {
  const f = (x: number): string => x.toFixed(digits);
  return `${label.padEnd(44)} n=${String(s.n).padStart(2)}  min ${f(s.min)}  median ${f(s.median)}  max ${f(s.max)} ${unit}`;
}
