/**
 * Named points where a test can make ferryd die as `kill -9` would, to prove that the
 * migration journal recovers from a crash at exactly that moment. Off unless the
 * environment variable FERRY_CRASH_AT names the point; a production ferryd never sets it.
 * @module
 */

/** Kills this process with SIGKILL when FERRY_CRASH_AT equals `point`. */
export function crashPoint(point: string): void {
  if (process.env['FERRY_CRASH_AT'] !== point) return;
  process.stderr.write(`{"msg":"crash point ${point}: SIGKILL"}\n`);
  process.kill(process.pid, 'SIGKILL');
}
