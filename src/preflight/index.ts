/**
 * Preflight: every check before a migration, with a verdict each (pass / warn / fail / skip)
 * and its reason — state & flags, CPU, machine type, versions (support-matrix.ts), devices
 * pinning the guest, NUMA pinning, storage, ports, memory, and with `--dry-run` the link's
 * bandwidth, the guest's dirty rate and a prediction. The source runs it (source.ts), asking
 * the destination for its half (destination.ts); `ferry migrate` runs it first of all.
 * @module
 */
export { runPreflight } from './source.js';
export type { PreflightRequest } from './source.js';
export { destinationPreflight } from './destination.js';
export type { PreflightServices } from './services.js';
export { firstFailure, overallVerdict, warningsOf } from './report.js';
export { checkMachineTypeForStart, globMatches, machineTypeAllowed } from './machine.js';
export type { MachineTypePolicy } from './machine.js';
