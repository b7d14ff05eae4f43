/**
 * The destination's part in a paused post-copy stream: pausing its QEMU when the source
 * stops answering, journaling pauses, and listening again for the resumed stream
 * (`migrate-recover`) when the source asks (migration.resume). The job's life cycle around
 * it stays in destination.ts.
 * @module
 */
import { FerryError, messageOf } from '../common/errors.js';
import type { Logger } from '../host/index.js';
import { QmpTimeoutError, type QmpClient } from '../qmp/index.js';
import { KeepaliveTimeoutError } from '../rpc/index.js';
import { incomingStatus, waitForStatus, type IncomingJob } from './incoming-job.js';
import type { MigrationJournal } from './journal.js';
import { allocatePort, streamUris } from './ports.js';
import type { MigrationInfo } from './stats.js';

/**
 * A source lost during post-copy: a silent link (keepalive gave up) pauses the stream at once,
 * rather than after the minutes TCP takes to notice; a source ferryd that hung up leaves the
 * stream alone, as the QEMUs may still reach each other.
 */
export async function pauseOnSourceLoss(
  job: IncomingJob,
  status: string | undefined,
  reason: FerryError | undefined,
  log: Logger,
): Promise<void> {
  if (status !== 'postcopy-active' || !(reason instanceof KeepaliveTimeoutError)) return;
  const domain = job.rec.def.name;
  log.warn(
    { domain, job: job.id, err: reason.message },
    'source not answering during post-copy; pausing the stream',
  );
  await job.rec.proc?.qmp
    .execute('migrate-pause', undefined, { oob: true })
    .catch((err: unknown) => {
      log.warn({ domain, err: messageOf(err) }, 'migrate-pause failed');
    });
}

/** Journals a post-copy stream pausing (the link broke) and running again. */
export function journalPostcopyStatus(
  job: IncomingJob,
  status: string,
  journal: MigrationJournal,
  log: Logger,
): void {
  const paused = status === 'postcopy-paused';
  if (!paused && status !== 'postcopy-active') return;
  if ((job.entry.postcopyPaused === true) === paused) return;
  job.entry.postcopyPaused = paused;
  journal.write(job.entry);
  const fields = { domain: job.rec.def.name, job: job.id };
  if (paused) log.warn(fields, 'post-copy paused; waiting for the source to resume it');
  else log.info(fields, 'post-copy resumed');
}

/**
 * Makes QEMU listen for the resumed stream on a fresh port of `portRange` at `listen`; returns
 * the URI the source sends it to. A stream this QEMU still thinks active is paused first: the
 * source only asks when its own end of it is dead.
 */
export async function reopenStream(
  job: IncomingJob,
  listen: string,
  portRange: readonly [number, number],
  taken: ReadonlySet<number>,
): Promise<string> {
  const qmp = job.rec.proc?.qmp;
  if (qmp === undefined) throw new FerryError('OPERATION_FAILED', 'Destination QEMU exited');
  // Out of band: QEMU's main loop may be blocked by a vCPU waiting for a page (see
  // incomingStatus), and these two commands are what unblocks it.
  let status = await incomingStatus(job);
  if (status === 'postcopy-active') {
    await qmp.execute('migrate-pause', undefined, { oob: true });
    status = await waitForStatus(job, ['postcopy-paused'], 10_000);
  }
  if (status !== 'postcopy-paused')
    throw new FerryError(
      'OPERATION_INVALID',
      `Requested operation is not valid: the incoming migration of '${job.rec.def.name}' is not a paused post-copy (status ${status ?? 'none'})`,
    );
  const port = await allocatePort(listen, portRange, taken);
  const uris = streamUris(listen, port, job.destHost);
  await qmp.execute('migrate-recover', { uri: uris.listen }, { oob: true });
  job.port = port;
  return uris.advertised;
}

/** Why migration.resume names no job running here. */
export function noRunningJob(journal: MigrationJournal, jobId: string): FerryError {
  const entry = journal.get('destination', jobId);
  if (entry === undefined)
    return new FerryError(
      'OPERATION_INVALID',
      `Requested operation is not valid: no incoming migration job '${jobId}' on this host`,
    );
  if (entry.phase === 'done')
    return new FerryError(
      'OPERATION_INVALID',
      `Requested operation is not valid: the incoming migration job '${jobId}' of '${entry.domainName}' has ended (${entry.outcome ?? 'unknown'})`,
    );
  // Journaled but not taken up yet: this ferryd is starting and recovering it.
  return new FerryError(
    'OPERATION_FAILED',
    `The incoming migration job '${jobId}' is being recovered; try again`,
  );
}

/**
 * The incoming QEMU's migration status as a restarted ferryd finds it. A QEMU that does not
 * answer has its main loop blocked by a vCPU waiting for a page: a paused post-copy stream
 * (see incomingStatus).
 */
export async function statusAfterRestart(qmp: QmpClient): Promise<string | undefined> {
  return qmp.execute<MigrationInfo>('query-migrate', undefined, { timeoutMs: 5000 }).then(
    (info) => info.status,
    (err: unknown) => (err instanceof QmpTimeoutError ? 'postcopy-paused' : undefined),
  );
}
