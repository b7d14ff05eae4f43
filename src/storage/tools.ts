/**
 * The QEMU utilities storage runs (qemu-img, qemu-nbd), with their own words on failure.
 * @module
 */
import { execFile } from 'node:child_process';
import { FerryError } from '../common/errors.js';
import { describeErrno } from '../common/node/errno.js';

/** Output of a finished tool. */
export interface ToolOutput {
  stdout: string;
  stderr: string;
}

/** How long a tool may run: long enough for a loaded 2-core machine, short of hanging forever. */
const TOOL_TIMEOUT_MS = 60_000;

/**
 * Runs `cmd args…` and returns its output; on failure throws OPERATION_FAILED whose message is
 * `what` and the tool's last stderr line.
 */
export function runTool(
  cmd: string,
  args: readonly string[],
  what: string,
  opts: { timeoutMs?: number } = {},
): Promise<ToolOutput> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? TOOL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve({ stdout, stderr });
          return;
        }
        // qemu-img compare says what differs on stdout.
        const said = (stderr.trim() || stdout.trim()).split('\n').pop() ?? '';
        const why =
          (err as NodeJS.ErrnoException).code === 'ENOENT'
            ? `cannot run ${cmd}: ${describeErrno(err)} (install qemu-utils)`
            : said !== ''
              ? said
              : err.message;
        reject(new FerryError('OPERATION_FAILED', `${what}: ${why}`, { cause: err }));
      },
    );
  });
}
