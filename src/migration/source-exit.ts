/**
 * A job that fails because the source QEMU itself ended (it crashed: QEMU 7.2 can corrupt its
 * own heap when a mirror's NBD target vanishes) says so in QEMU's words, instead of the bare
 * "QMP connection … is closed" of the next command it could not answer.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { QemuProcess } from '../qemu/index.js';
import { MigrationError } from './errors.js';

/** How long to wait for the QMP socket to close after a job error before taking QEMU as alive. */
const EXIT_GRACE_MS = 500;

/**
 * `err` unchanged while the source QEMU still runs; otherwise an error naming its end and the
 * last line of its log. Before the switch-over the destination has dropped its copy, so the
 * guest runs nowhere: the message says that too.
 */
export async function explainSourceExit(
  proc: QemuProcess,
  qemuLog: string | undefined,
  domain: string,
  err: unknown,
): Promise<unknown> {
  const gone = await Promise.race([
    proc.exited.then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), EXIT_GRACE_MS)),
  ]);
  if (!gone) return err;
  const said = qemuLog === undefined ? undefined : lastWords(qemuLog);
  return new MigrationError(
    'perform',
    `The source QEMU of domain '${domain}' exited during the migration (${said === undefined ? 'it said nothing: killed?' : `QEMU: ${said}`}); the guest is not running on either host`,
    err,
  );
}

/**
 * The last line QEMU wrote since its start, or undefined when it wrote none. The launcher's
 * log holds `TIME: starting up` and the command line before QEMU's own output.
 */
export function lastWords(logFile: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return undefined;
  }
  const start = text.lastIndexOf(': starting up\n');
  const afterStart = start < 0 ? text : text.slice(start + ': starting up\n'.length);
  // The first line after the marker is the command line the launcher wrote.
  const output = start < 0 ? afterStart : afterStart.slice(afterStart.indexOf('\n') + 1);
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  return lines.at(-1)?.trim();
}
