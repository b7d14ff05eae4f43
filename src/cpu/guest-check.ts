/**
 * The verdict on whether a host can run a guest's CPU (the body of CpuService.checkGuest),
 * given both hosts' CPUs in host-model form. Pure: the daemon supplies the host models.
 * @module
 */
import type { CpuDef } from '../domain/def.js';
import type { CpuCheckOutcome, HostCpuModel } from '../rpc/schema/cpu.js';
import type { X86CpuMap } from './cpu-map.js';
import { type X86CpuDef, cpuData, findModel } from './x86-cpu.js';
import { compareX86 } from './x86-baseline.js';
import { FerryError } from '../common/errors.js';

/** The chapter's sentence (RHEL 8, 10.3 Limitations). */
export const CROSS_VENDOR =
  'migrating between an Intel 64 host and an AMD64 host is unsupported, even though they share the x86-64 instruction set';

/** QEMU's CPU when a domain has no <cpu>. */
export const DEFAULT_GUEST_MODEL = 'qemu64';

export interface CheckContext {
  map: X86CpuMap;
  /** This host (the one that would run the guest). */
  here: HostCpuModel;
  /** The host the guest runs on now. */
  source: HostCpuModel;
  /** Model names QEMU here knows; a custom model outside it cannot start. */
  knownModels: ReadonlySet<string>;
  /**
   * Whether this host's vendor binds guests: true with KVM or a cpu_limit. Under TCG alone
   * QEMU emulates either vendor's models, so only the features count.
   */
  vendorBinds: boolean;
  /** Who lacks features in the message: 'destination' (a migration, default) or 'host'. */
  hostLabel?: 'destination' | 'host';
}

function hostDef(h: HostCpuModel): X86CpuDef {
  return {
    type: 'guest',
    model: h.model,
    ...(h.vendor === '' ? {} : { vendor: h.vendor }),
    features: h.features.map((f) => ({ name: f.name, policy: f.policy })),
  };
}

const pass = (reason: string): CpuCheckOutcome => ({
  verdict: 'pass',
  reason,
  missingFeatures: [],
});
const fail = (reason: string, missingFeatures: string[] = []): CpuCheckOutcome => ({
  verdict: 'fail',
  reason,
  missingFeatures,
});

function vendorMismatch(
  guestVendor: string | undefined,
  ctx: CheckContext,
): CpuCheckOutcome | undefined {
  if (!ctx.vendorBinds || guestVendor === undefined || ctx.here.vendor === '') return undefined;
  if (guestVendor === ctx.here.vendor) return undefined;
  return fail(
    `guest CPU vendor ${guestVendor} differs from this host's ${ctx.here.vendor}: ${CROSS_VENDOR}`,
  );
}

/** A named-model guest CPU against this host: every feature it needs must be here. */
function checkCustom(guest: X86CpuDef, label: string, ctx: CheckContext): CpuCheckOutcome {
  const model = guest.model ?? DEFAULT_GUEST_MODEL;
  if (!ctx.map.modelByName.has(model)) return fail(`unknown CPU model ${model}`);
  if (!ctx.knownModels.has(model)) return fail(`CPU model ${model} is not supported by hypervisor`);
  const modelVendor = findModel(ctx.map, model).vendor?.name;
  const mismatch = vendorMismatch(guest.vendor ?? modelVendor, ctx);
  if (mismatch !== undefined) return mismatch;
  let outcome;
  try {
    // The vendor was settled above; compare the features alone.
    const featuresOnly: X86CpuDef = { type: 'guest', model, features: guest.features };
    if (guest.match !== undefined) featuresOnly.match = guest.match;
    outcome = compareX86(hostDef(ctx.here), featuresOnly, ctx.map);
  } catch (err) {
    if (err instanceof FerryError) return fail(err.message);
    throw err;
  }
  if (outcome.result === 'incompatible') {
    return outcome.missingFeatures.length > 0
      ? fail(
          `${ctx.hostLabel ?? 'destination'} CPU lacks features ${label} needs (${outcome.missingFeatures.join(', ')})`,
          outcome.missingFeatures,
        )
      : fail(outcome.message ?? 'CPU is incompatible');
  }
  return pass(`this host can run ${label}`);
}

/** The feature differences between two host CPUs, or an empty list when identical. */
function hostDifferences(
  a: HostCpuModel,
  b: HostCpuModel,
  map: X86CpuMap,
): { missing: string[]; extra: string[] } {
  const da = cpuData(hostDef(a), map, 'all');
  const db = cpuData(hostDef(b), map, 'all');
  const names = (x: ReturnType<typeof cpuData>): string[] =>
    map.features.filter((f) => !f.data.isEmpty() && x.hasAll(f.data)).map((f) => f.name);
  return {
    missing: names(da.copy().subtract(db)),
    extra: names(db.copy().subtract(da)),
  };
}

export function checkGuestCpu(cpu: CpuDef | undefined, ctx: CheckContext): CpuCheckOutcome {
  if (cpu === undefined || (cpu.mode === 'custom' && cpu.model === undefined)) {
    return checkCustom(
      { type: 'guest', model: DEFAULT_GUEST_MODEL, features: cpu?.features ?? [] },
      `QEMU's default CPU (${DEFAULT_GUEST_MODEL})`,
      ctx,
    );
  }
  switch (cpu.mode) {
    case 'custom':
      return checkCustom(
        {
          type: 'guest',
          ...(cpu.model === undefined ? {} : { model: cpu.model.name }),
          ...(cpu.vendor === undefined ? {} : { vendor: cpu.vendor }),
          ...(cpu.match === undefined ? {} : { match: cpu.match }),
          features: cpu.features,
        },
        `guest CPU ${cpu.model?.name ?? DEFAULT_GUEST_MODEL}`,
        ctx,
      );
    case 'host-model': {
      // libvirt: the guest runs with the source's host-model expansion, so that must fit here.
      if (
        ctx.source.vendor !== '' &&
        ctx.here.vendor !== '' &&
        ctx.source.vendor !== ctx.here.vendor
      ) {
        return fail(
          `source host CPU vendor ${ctx.source.vendor} differs from this host's ${ctx.here.vendor}: ${CROSS_VENDOR}`,
        );
      }
      const source = hostDef(ctx.source);
      return checkCustom(
        { ...source, features: [...source.features, ...cpu.features] },
        `the source's host-model CPU (${ctx.source.model})`,
        { ...ctx, vendorBinds: false },
      );
    }
    case 'host-passthrough':
    case 'maximum': {
      if (ctx.source.vendor !== ctx.here.vendor) {
        return fail(
          `source host CPU vendor ${ctx.source.vendor || 'unknown'} differs from this host's ${ctx.here.vendor || 'unknown'}: ${CROSS_VENDOR}`,
        );
      }
      const { missing, extra } = hostDifferences(ctx.source, ctx.here, ctx.map);
      if (missing.length === 0 && extra.length === 0)
        return pass(`${cpu.mode} guest: both hosts' CPUs are identical`);
      const parts = [
        ...(missing.length === 0 ? [] : [`this host lacks ${missing.join(', ')}`]),
        ...(extra.length === 0 ? [] : [`this host adds ${extra.join(', ')}`]),
      ];
      return fail(`${cpu.mode} guest needs identical host CPUs: ${parts.join('; ')}`, missing);
    }
  }
}
