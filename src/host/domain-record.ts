/**
 * The in-memory record of one domain on this host, and lookups over a set of them.
 * @module
 */
import { FerryError } from '../common/errors.js';
import type { DomainDef } from '../domain/def.js';
import type { DomainState } from '../domain/state.js';
import type { QemuProcess } from '../qemu/index.js';
import type { JobStats } from '../rpc/schema/migration.js';

/** A running job as the host sees it; the migration module supplies the behaviour. */
export interface ActiveJob {
  id: string;
  operation: NonNullable<JobStats['operation']>;
  stats(): Promise<JobStats>;
  abort(): Promise<void>;
  startPostcopy(): Promise<void>;
  /** domjobabort --postcopy: pause a migration in post-copy; it waits for --postcopy-resume. */
  pausePostcopy?(): Promise<void>;
  /**
   * migrate --postcopy-resume: one try now to resume a paused post-copy through `destUri`;
   * rejects when that try fails (the job stays paused), else resolves when the job ends.
   */
  resumePostcopy?(
    destUri: string,
    onProgress: (stats: JobStats) => void,
  ): Promise<{ name: string; stats: JobStats }>;
}

/** A GUEST_PANICKED event as the host saw it: the evidence a crashed domain keeps. */
export interface PanicRecord {
  /** When ferryd received the event (ms since the epoch). */
  at: number;
  /** What QEMU did: 'pause' (Ferry's setting), 'poweroff' or 'run'. */
  action: string;
  /** QEMU's GuestPanicInformation, when the panic device provides any. */
  info?: Record<string, unknown>;
}

export interface DomainRecord {
  /** The persistent definition, or the transient one for a transient domain. */
  def: DomainDef;
  persistent: boolean;
  /** The definition the running QEMU was started with; set while active. */
  liveDef: DomainDef | undefined;
  id: number | null;
  state: DomainState;
  reason: string;
  proc: QemuProcess | undefined;
  /** Why the process is being stopped by ferryd itself, so its exit gets the right reason. */
  stopping: 'destroyed' | 'shutdown' | 'migrated' | undefined;
  /** Serial log file (file chardev or pty log), for consoleLog and the tests. */
  consoleLog: string | undefined;
  /** QEMU's own log (its command line and messages) while active. */
  qemuLog: string | undefined;
  /** The guest's panic while it is crashed (panicked); cleared when QEMU ends. */
  panic: PanicRecord | undefined;
  /** The job running on this domain (one at a time), if any. */
  job: ActiveJob | undefined;
  /** Statistics of the last finished job, for domjobinfo --completed. */
  lastJob: JobStats | undefined;
  /** Migration tuning for the next job while inactive (migrate-setmaxdowntime, migrate-setspeed). */
  tuning: { downtimeMs: number; bandwidthMiBs: number };
  /** Serialises lifecycle operations on this domain. */
  lock: Promise<unknown>;
}

/** True when a QEMU process exists for the record. */
export function isActive(rec: DomainRecord): boolean {
  return rec.id !== null;
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Finds a domain by name, then numeric id, then UUID, the way virsh resolves `--domain`. */
export function lookupDomain(records: Iterable<DomainRecord>, ref: string): DomainRecord {
  const all = [...records];
  const byName = all.find((r) => r.def.name === ref);
  if (byName !== undefined) return byName;
  if (/^\d+$/.test(ref)) {
    const byId = all.find((r) => r.id === Number(ref));
    if (byId !== undefined) return byId;
  }
  if (UUID_RE.test(ref)) {
    const want = ref.toLowerCase().replaceAll('-', '');
    const byUuid = all.find((r) => r.def.uuid.replaceAll('-', '') === want);
    if (byUuid !== undefined) return byUuid;
  }
  throw new FerryError('NO_DOMAIN', `Domain not found: no domain with matching name '${ref}'`, {
    data: { domain: ref },
  });
}

/** Migration tuning of a domain until changed: QEMU's default maximum downtime, and libvirt's "unlimited" bandwidth. */
export const DEFAULT_MIGRATION_TUNING = { downtimeMs: 300, bandwidthMiBs: 8796093022207 } as const;

/** A record for a domain that is not running. */
export function newRecord(def: DomainDef, persistent: boolean): DomainRecord {
  return {
    def,
    persistent,
    liveDef: undefined,
    id: null,
    state: 'shut off',
    reason: 'unknown',
    proc: undefined,
    stopping: undefined,
    consoleLog: undefined,
    qemuLog: undefined,
    panic: undefined,
    job: undefined,
    lastJob: undefined,
    tuning: { ...DEFAULT_MIGRATION_TUNING },
    lock: Promise.resolve(),
  };
}
