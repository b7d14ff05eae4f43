/**
 * The machine-type check: the destination's QEMU must offer the exact versioned machine type
 * the guest runs with ('pc' resolved on the source to 'pc-i440fx-7.2'), and the host must
 * support it (ferryd.conf `machine_types`, globs; some hosts support only q35). The same
 * setting refuses to start a guest with a machine type the host does not support.
 * @module
 */
import { FerryError } from '../common/errors.js';
import type { QemuHostFacts } from '../qemu/probe.js';
import { resolveMachine } from '../qemu/probe.js';
import type { PreflightVerdict } from '../rpc/schema/preflight.js';

/** ferryd.conf `machine_types` and where it was set (for messages). */
export interface MachineTypePolicy {
  /** Globs ('pc-q35-*'); undefined = every machine type this QEMU offers. */
  globs: readonly string[] | undefined;
  origin: string;
}

/** Shell-style glob ('*' any run, '?' one character) matched against the whole name. */
export function globMatches(glob: string, name: string): boolean {
  const re = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${re}$`).test(name);
}

/** Whether `machine` (a versioned name) is one the host's `machine_types` lets guests use. */
export function machineTypeAllowed(machine: string, policy: MachineTypePolicy): boolean {
  return policy.globs === undefined || policy.globs.some((g) => globMatches(g, machine));
}

function unsupportedMessage(machine: string, policy: MachineTypePolicy): string {
  return `machine type '${machine}' is not supported on this host (machine_types in ${policy.origin}: ${(policy.globs ?? []).join(', ') || 'none'})`;
}

/**
 * The versioned machine type a definition's machine stands for on a host ('pc' →
 * 'pc-i440fx-7.2'); the name itself when this QEMU does not know it.
 */
export function versionedMachine(facts: QemuHostFacts, machine: string): string {
  return resolveMachine(facts, machine)?.name ?? machine;
}

/**
 * Whether this host (its QEMU `facts` and `policy`) can run a guest with `machine`: exactly that
 * versioned type for an incoming live guest, or whatever the name resolves to here for a
 * definition moved offline (it boots afresh).
 */
export function checkMachineOnHost(
  facts: QemuHostFacts,
  machine: string,
  offline: boolean,
  policy: MachineTypePolicy,
): { verdict: PreflightVerdict; reason: string } {
  const found = offline
    ? resolveMachine(facts, machine)
    : facts.machines.find((m) => m.name === machine);
  if (found === undefined)
    return {
      verdict: 'fail',
      reason: `QEMU ${facts.version} on the destination lacks machine type '${machine}'`,
    };
  if (!machineTypeAllowed(found.name, policy))
    return { verdict: 'fail', reason: `destination: ${unsupportedMessage(found.name, policy)}` };
  const named = found.name === machine ? machine : `${machine} (${found.name})`;
  if (found.deprecated)
    return {
      verdict: 'warn',
      reason: `${named} is offered by QEMU ${facts.version} on the destination but deprecated`,
    };
  return {
    verdict: 'pass',
    reason: `${named} is offered by QEMU ${facts.version} on the destination`,
  };
}

/** At start: throws CONFIG_UNSUPPORTED when the guest's machine type is not one the host supports. */
export function checkMachineTypeForStart(
  facts: QemuHostFacts,
  machine: string,
  policy: MachineTypePolicy,
): void {
  if (policy.globs === undefined) return;
  const name = versionedMachine(facts, machine);
  if (!machineTypeAllowed(name, policy))
    throw new FerryError(
      'CONFIG_UNSUPPORTED',
      `unsupported configuration: ${unsupportedMessage(name, policy)}`,
    );
}
