/**
 * x86 CPU data as libvirt's cpu_x86.c models it: a set of CPUID leaves (eax_in/ecx_in →
 * eax, ebx, ecx, edx) and MSRs (index → eax, edx), each a bit mask. Features, models, vendors
 * and whole CPUs are all such sets, so baseline and compare are bit arithmetic over them.
 * @module
 */

/** One CPUID leaf or MSR: its key and its registers (CPUID: 4 words, MSR: eax, edx). */
export type X86Registers = number[];

/** Keyed by 'cpuid:<eax_in>:<ecx_in>' or 'msr:<index>'; values are 32-bit words. */
export class X86Data {
  readonly items = new Map<string, X86Registers>();

  static cpuidKey(eaxIn: number, ecxIn: number): string {
    return `cpuid:${eaxIn}:${ecxIn}`;
  }

  static msrKey(index: number): string {
    return `msr:${index}`;
  }

  copy(): X86Data {
    const out = new X86Data();
    for (const [k, v] of this.items) out.items.set(k, [...v]);
    return out;
  }

  /** Sets the bits of `other` here (libvirt's x86DataAdd). */
  add(other: X86Data): this {
    for (const [k, v] of other.items) {
      const mine = this.items.get(k);
      if (mine === undefined) this.items.set(k, [...v]);
      else for (let i = 0; i < v.length; i++) mine[i] = ((mine[i] ?? 0) | (v[i] ?? 0)) >>> 0;
    }
    return this;
  }

  /** Clears the bits of `other` here (x86DataSubtract). */
  subtract(other: X86Data): this {
    for (const [k, v] of other.items) {
      const mine = this.items.get(k);
      if (mine === undefined) continue;
      for (let i = 0; i < mine.length; i++) mine[i] = ((mine[i] ?? 0) & ~(v[i] ?? 0)) >>> 0;
    }
    return this;
  }

  /** Keeps only the bits also in `other` (x86DataIntersect). */
  intersect(other: X86Data): this {
    for (const [k, mine] of this.items) {
      const v = other.items.get(k);
      for (let i = 0; i < mine.length; i++)
        mine[i] = v === undefined ? 0 : (mine[i] ?? 0) & (v[i] ?? 0);
      for (let i = 0; i < mine.length; i++) mine[i] = (mine[i] ?? 0) >>> 0;
    }
    return this;
  }

  /** Whether every bit of `sub` is set here (x86DataIsSubset). */
  hasAll(sub: X86Data): boolean {
    for (const [k, v] of sub.items) {
      const mine = this.items.get(k);
      for (let i = 0; i < v.length; i++) {
        const want = v[i] ?? 0;
        if (want === 0) continue;
        if (mine === undefined || ((mine[i] ?? 0) & want) >>> 0 !== want) return false;
      }
    }
    return true;
  }

  isEmpty(): boolean {
    for (const v of this.items.values()) if (v.some((w) => w !== 0)) return false;
    return true;
  }

  /** Sets one leaf's registers outright (the vendor string, the signature). */
  setItem(key: string, regs: X86Registers): this {
    this.items.set(key, [...regs]);
    return this;
  }
}

/** CPUID leaf 0's ebx, edx, ecx spell the vendor string ('GenuineIntel'). */
export function vendorData(vendorString: string): X86Data {
  const b = Buffer.alloc(12);
  b.write(vendorString.padEnd(12, '\0').slice(0, 12), 'latin1');
  return new X86Data().setItem(X86Data.cpuidKey(0, 0), [
    0,
    b.readUInt32LE(0),
    b.readUInt32LE(8),
    b.readUInt32LE(4),
  ]);
}

/** CPUID leaf 1's eax as libvirt builds it from family/model/stepping (x86MakeSignature). */
export function makeSignature(family: number, model: number, stepping: number): number {
  let sig = 0;
  let fam = family;
  if (fam > 0xf) {
    sig |= (fam - 0xf) << 20;
    fam = 0xf;
  }
  sig |= (model >> 4) << 16;
  sig |= fam << 8;
  sig |= (model & 0xf) << 4;
  sig |= stepping & 0xf;
  return sig >>> 0;
}

export function signatureParts(sig: number): { family: number; model: number; stepping: number } {
  return {
    family: ((sig >> 20) & 0xff) + ((sig >> 8) & 0xf),
    model: ((sig >> 12) & 0xf0) + ((sig >> 4) & 0xf),
    stepping: sig & 0xf,
  };
}
