/**
 * The on-disk journal of migration jobs, one file per job and side (libvirt keeps the same
 * facts in its domain status XML). A ferryd that restarts mid-job reads it to learn which
 * side of the switch-over the job had reached, and so whether to roll back or to finish.
 *
 * Every phase change is written (atomically, fsynced) *before* the action it announces, so
 * after a crash the journal never claims less than what happened: a source journal in
 * `switching` may or may not have told the destination to run the guest, but one in
 * `performing` certainly has not.
 *
 * A finished job leaves its entry in phase `done` with its outcome: the peer asks for it
 * (`migration.status`) after a crash, and domjobinfo --completed shows it after a restart.
 * @module
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../domain/store.js';
import { JobStats, MigrateFlags } from '../rpc/schema/migration.js';

/**
 * Source phases, in order: `begin` (job taken, guest maybe paused), `prepared` (destination
 * QEMU waits), `performing` (stream started), `switching` (the destination may run the guest
 * from now on), `done`.
 */
export const SOURCE_PHASES = ['begin', 'prepared', 'performing', 'switching', 'done'] as const;
/**
 * Destination phases: `prepared` (incoming QEMU waits, paused), `resuming` (the source said
 * the guest is ours: it runs here whatever happens next), `done`.
 */
export const DESTINATION_PHASES = ['prepared', 'resuming', 'done'] as const;

const Outcome = z.enum(['completed', 'failed', 'cancelled']);
export type JobOutcome = z.output<typeof Outcome>;

const Common = {
  jobId: z.string().min(1),
  domainUuid: z.string().min(1),
  domainName: z.string().min(1),
  startedAt: z.number(),
  outcome: Outcome.optional(),
  /** The statistics domjobinfo --completed shows, once done. */
  stats: JobStats.optional(),
  /**
   * A post-copy stream that is paused (the link between the hosts broke, or a user paused it):
   * the guest's memory is split between the hosts, so neither side may roll back; a restarted
   * ferryd keeps trying to resume it.
   */
  postcopyPaused: z.boolean().optional(),
};

export const SourceEntry = z.strictObject({
  ...Common,
  role: z.literal('source'),
  phase: z.enum(SOURCE_PHASES),
  destUri: z.string(),
  destJobId: z.string().optional(),
  flags: MigrateFlags,
  /** Whether the guest ran before the job: a rollback resumes it only then. */
  wasRunning: z.boolean(),
});
export type SourceEntry = z.output<typeof SourceEntry>;

export const DestinationEntry = z.strictObject({
  ...Common,
  role: z.literal('destination'),
  phase: z.enum(DESTINATION_PHASES),
  sourceHostUuid: z.string(),
  /** The domain existed here (defined, shut off) before the job: a rollback keeps it. */
  existedBefore: z.boolean(),
  persistent: z.boolean(),
  suspend: z.boolean(),
  /**
   * Where QEMU listens for the stream and the host name advertised for a wildcard address,
   * so a ferryd restarted during a paused post-copy reopens the stream where the source can
   * reach it. Absent in entries written before they were kept.
   */
  listen: z.string().optional(),
  destHost: z.string().optional(),
  /** Disk images this host created for the job: removed if it fails (never pre-created ones). */
  createdImages: z.array(z.string()).optional(),
  /** The QEMU exports disks for a storage copy: stopped before the guest runs here. */
  diskExports: z.boolean().optional(),
});
export type DestinationEntry = z.output<typeof DestinationEntry>;

export type JournalEntry = SourceEntry | DestinationEntry;
const Entry = z.discriminatedUnion('role', [SourceEntry, DestinationEntry]);

/** Finished entries are kept this long, for the peer's questions and domjobinfo. */
const KEEP_DONE_MS = 24 * 3600_000;

export class MigrationJournal {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  #path(role: JournalEntry['role'], jobId: string): string {
    // Job ids come from peers: keep them to a safe file-name alphabet.
    return join(this.#dir, `${role}-${jobId.replace(/[^A-Za-z0-9_-]/g, '_')}.json`);
  }

  write(entry: JournalEntry): void {
    writeFileAtomic(this.#path(entry.role, entry.jobId), `${JSON.stringify(entry)}\n`);
  }

  /** Records the end of a job with its outcome and statistics. */
  finish<E extends JournalEntry>(entry: E, outcome: JobOutcome, stats: JobStats): E {
    const done = { ...entry, phase: 'done', outcome, stats } as E;
    this.write(done);
    return done;
  }

  get(role: JournalEntry['role'], jobId: string): JournalEntry | undefined {
    return readEntry(this.#path(role, jobId));
  }

  /** Every readable entry; unreadable files are reported and left for a person to look at. */
  load(onBadFile: (file: string, why: string) => void = () => undefined): JournalEntry[] {
    const out: JournalEntry[] = [];
    const now = Date.now();
    for (const name of readdirSync(this.#dir)) {
      if (!name.endsWith('.json')) continue;
      const file = join(this.#dir, name);
      try {
        const entry = Entry.parse(JSON.parse(readFileSync(file, 'utf8')));
        if (entry.phase === 'done' && now - statSync(file).mtimeMs > KEEP_DONE_MS) {
          rmSync(file, { force: true });
          continue;
        }
        out.push(entry);
      } catch (err) {
        onBadFile(file, err instanceof Error ? err.message : String(err));
      }
    }
    return out.sort((a, b) => a.startedAt - b.startedAt);
  }
}

function readEntry(file: string): JournalEntry | undefined {
  try {
    return Entry.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}
