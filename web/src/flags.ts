/**
 * The Migrate dialog's form → the MigrateFlags `migration.start` takes, as `ferry migrate`
 * builds them from virsh's options (src/cli/commands/migrate.ts). Only parses and maps:
 * which combinations make sense is ferryd's call (its preflight says so, check "state").
 * DOM-free.
 * @module
 */
import type { MigrateFlagsInput } from './rpc/types.js';

/** The dialog's controls, as typed (number fields stay text until parsed here). */
export interface MigrateForm {
  /** Permanent: persistent + undefineSource. Temporary: neither (virsh's default). */
  type: 'permanent' | 'temporary';
  /** Unchecked: offline (only the definition moves). */
  live: boolean;
  copyStorage: 'none' | 'all' | 'inc';
  /** Empty: no parallel migration. */
  parallelConnections: string;
  /** Empty: leave the domain's max downtime as it is. */
  maxDowntimeMs: string;
  /** Empty: never switch to post-copy. */
  postcopyAfterSeconds: string;
  autoConverge: boolean;
  automaticPolicy: boolean;
  /** Empty: unlimited. */
  bandwidthMiBs: string;
}

/** The dialog's starting values for a guest in `running` state or not. */
export function defaultForm(guestRunning: boolean): MigrateForm {
  return {
    type: 'temporary',
    live: guestRunning,
    copyStorage: 'none',
    parallelConnections: '',
    maxDowntimeMs: '',
    postcopyAfterSeconds: '',
    autoConverge: false,
    automaticPolicy: false,
    bandwidthMiBs: '',
  };
}

/** What the form asks for: the flags, and the max downtime to set with migrate-setmaxdowntime. */
export interface MigratePlan {
  flags: MigrateFlagsInput;
  /** Set through migration.setMaxDowntime just before the job, as `ferry migrate-setmaxdowntime`. */
  maxDowntimeMs: number | undefined;
}

export type FormOutcome = { ok: true; plan: MigratePlan } | { ok: false; error: string };

/** A whole number in [min, max] from a field, undefined when empty; throws a readable message. */
function wholeNumber(text: string, label: string, min: number, max: number): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const n = /^\d+$/.test(t) ? Number(t) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new RangeError(`${label} must be a whole number from ${min} to ${max}`);
  return n;
}

/** The form as flags, or the first field that does not parse. */
export function formToPlan(form: MigrateForm): FormOutcome {
  try {
    const parallel = wholeNumber(form.parallelConnections, 'Parallel connections', 1, 255);
    const maxDowntimeMs = wholeNumber(form.maxDowntimeMs, 'Max downtime (ms)', 1, 2_000_000);
    const postcopyAfter = wholeNumber(
      form.postcopyAfterSeconds,
      'Post-copy after (s)',
      1,
      2 ** 31 - 1,
    );
    const bandwidth = wholeNumber(
      form.bandwidthMiBs,
      'Bandwidth limit (MiB/s)',
      1,
      Number.MAX_SAFE_INTEGER,
    );
    const permanent = form.type === 'permanent';
    const flags: MigrateFlagsInput = {
      live: form.live,
      offline: !form.live,
      persistent: permanent,
      undefineSource: permanent,
      copyStorageAll: form.copyStorage === 'all',
      copyStorageInc: form.copyStorage === 'inc',
      autoConverge: form.autoConverge,
    };
    if (parallel !== undefined) {
      flags.parallel = true;
      flags.parallelConnections = parallel;
    }
    if (postcopyAfter !== undefined) {
      flags.postcopy = true;
      flags.timeout = postcopyAfter;
      flags.timeoutPostcopy = true;
    }
    // As `ferry migrate --auto`: sent only when asked for, so an older ferryd takes the rest.
    if (form.automaticPolicy) flags.auto = true;
    if (bandwidth !== undefined) flags.bandwidth = bandwidth;
    return { ok: true, plan: { flags, maxDowntimeMs } };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
