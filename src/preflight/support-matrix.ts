/**
 * Which Ferry and QEMU version pairs a migration is supported between: the ONE table, modelled
 * on the chapter's 10.8 "Supported hosts for virtual machine migration" (forward and backward,
 * major and minor release, per machine-type family), with QEMU releases in place of RHEL's.
 * @module
 */
import type { PreflightVerdict } from '../rpc/schema/preflight.js';

/** The machine-type families the chapter's table speaks of. */
export type MachineFamily = 'i440fx' | 'q35' | 'other';

export type Direction = 'same' | 'forward' | 'backward';
/** How far apart two releases are: micro only ('release'), minor, or major. */
export type Step = 'release' | 'minor' | 'major';
type Support = 'supported' | 'unsupported';

interface MatrixRow {
  direction: Direction;
  step: Step;
  i440fx: Support;
  q35: Support;
  /** Why, printed after the verdict. */
  note: string;
}

/**
 * QEMU between the hosts. As the chapter's RHEL 8 rows: forward is supported across minor and
 * one major release for both families; backward across minor releases only for q35 (an older
 * QEMU's i440fx machine types lack devices newer releases added to them, so backward i440fx
 * streams are not promised); backward across a major release never.
 */
export const QEMU_SUPPORT_MATRIX: readonly MatrixRow[] = [
  {
    direction: 'same',
    step: 'release',
    i440fx: 'supported',
    q35: 'supported',
    note: 'same release',
  },
  {
    direction: 'forward',
    step: 'release',
    i440fx: 'supported',
    q35: 'supported',
    note: 'forward stable release',
  },
  {
    direction: 'backward',
    step: 'release',
    i440fx: 'supported',
    q35: 'supported',
    note: 'backward stable release',
  },
  {
    direction: 'forward',
    step: 'minor',
    i440fx: 'supported',
    q35: 'supported',
    note: 'forward minor',
  },
  {
    direction: 'backward',
    step: 'minor',
    i440fx: 'unsupported',
    q35: 'supported',
    note: 'backward minor',
  },
  {
    direction: 'forward',
    step: 'major',
    i440fx: 'supported',
    q35: 'supported',
    note: 'forward major',
  },
  {
    direction: 'backward',
    step: 'major',
    i440fx: 'unsupported',
    q35: 'unsupported',
    note: 'backward major',
  },
];

/**
 * Ferry between the hosts: the source and destination ferryd exchange the migration cookie,
 * whose shape may change in any minor release while Ferry is 0.x (semver's rule), so 0.x needs
 * the same minor; from 1.0 on, any minor within the major, either way.
 */
export const FERRY_SUPPORT_MATRIX = {
  /** Major versions whose minor releases are not compatible with each other (semver 0.x). */
  unstableMajors: [0],
} as const;

export interface Version {
  major: number;
  minor: number;
  micro: number;
}

/** '7.2.22' → {7, 2, 22}; '8.0' → {8, 0, 0}; undefined when it is not a version. */
export function parseVersion(text: string): Version | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  if (m?.[1] === undefined || m[2] === undefined) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), micro: Number(m[3] ?? 0) };
}

/** The family of a machine type name: 'pc', 'pc-i440fx-7.2' → i440fx; 'q35', 'pc-q35-7.2' → q35. */
export function machineFamily(machine: string): MachineFamily {
  if (machine === 'pc' || machine.startsWith('pc-i440fx-')) return 'i440fx';
  if (machine === 'q35' || machine.startsWith('pc-q35-')) return 'q35';
  return 'other';
}

function compare(a: Version, b: Version): { direction: Direction; step: Step } {
  const diff = a.major !== b.major ? 'major' : a.minor !== b.minor ? 'minor' : 'release';
  const key = (v: Version): number => v.major * 1e8 + v.minor * 1e4 + v.micro;
  const direction = key(b) > key(a) ? 'forward' : key(b) < key(a) ? 'backward' : 'same';
  return { direction, step: diff };
}

export interface VersionVerdict {
  verdict: PreflightVerdict;
  reason: string;
}

function arrow(src: string, dst: string): string {
  return `${src} → ${dst}`;
}

/** The QEMU row for `source` → `destination` and the guest's machine family, as a verdict. */
export function qemuVersionVerdict(
  source: string,
  destination: string,
  family: MachineFamily,
): VersionVerdict {
  const a = parseVersion(source);
  const b = parseVersion(destination);
  if (a === undefined || b === undefined)
    return {
      verdict: 'warn',
      reason: `QEMU ${arrow(source, destination)}: cannot read the version, no support statement`,
    };
  const { direction, step } = compare(a, b);
  const row = QEMU_SUPPORT_MATRIX.find((r) => r.direction === direction && r.step === step);
  const names = `QEMU ${arrow(source, destination)}`;
  if (row === undefined) return { verdict: 'warn', reason: `${names}: no support statement` };
  if (direction === 'forward' && step === 'major' && b.major - a.major > 1)
    return {
      verdict: 'warn',
      reason: `${names}: forward across ${b.major - a.major} major releases: only one major release at a time is supported`,
    };
  if (family === 'other')
    return {
      verdict: 'warn',
      reason: `${names}: ${row.note}; the support matrix covers the i440fx and q35 machine types only`,
    };
  const support = row[family];
  const detail =
    direction === 'same' ? row.note : `${row.note} ${a.major}.${a.minor} → ${b.major}.${b.minor}`;
  return support === 'supported'
    ? { verdict: 'pass', reason: `${names}: ${detail}, supported` }
    : { verdict: 'fail', reason: `${names}: ${detail} (${family}): unsupported` };
}

/** Whether two ferryd can talk migration to each other. */
export function ferryVersionVerdict(source: string, destination: string): VersionVerdict {
  const a = parseVersion(source);
  const b = parseVersion(destination);
  const names = `Ferry ${arrow(source, destination)}`;
  if (a === undefined || b === undefined)
    return { verdict: 'fail', reason: `${names}: cannot read the version` };
  const { direction, step } = compare(a, b);
  if (step === 'release')
    return {
      verdict: 'pass',
      reason: `${names}: ${direction === 'same' ? 'same release' : 'same minor release'}`,
    };
  if (step === 'major')
    return {
      verdict: 'fail',
      reason: `${names}: ${direction} major ${a.major}.x → ${b.major}.x: unsupported`,
    };
  const unstable = (FERRY_SUPPORT_MATRIX.unstableMajors as readonly number[]).includes(a.major);
  return unstable
    ? {
        verdict: 'fail',
        reason: `${names}: ${direction} minor within ${a.major}.x: unsupported (0.x releases promise no compatibility between minor releases)`,
      }
    : { verdict: 'pass', reason: `${names}: ${direction} minor, supported` };
}

/** Both pairs in one verdict: the worse of the two, both reasons. */
export function versionsVerdict(
  ferry: { source: string; destination: string },
  qemu: { source: string; destination: string },
  family: MachineFamily,
): VersionVerdict {
  const parts = [
    ferryVersionVerdict(ferry.source, ferry.destination),
    qemuVersionVerdict(qemu.source, qemu.destination, family),
  ];
  const rank: Record<PreflightVerdict, number> = { skip: 0, pass: 1, warn: 2, fail: 3 };
  const worst = parts.reduce((w, p) => (rank[p.verdict] > rank[w.verdict] ? p : w));
  // The failing half first: it is the line a user acts on.
  const ordered = [worst, ...parts.filter((p) => p !== worst)];
  return { verdict: worst.verdict, reason: ordered.map((p) => p.reason).join('; ') };
}
