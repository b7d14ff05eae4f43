/**
 * QEMU: the argv for a domain, the process and its supervision, and the QMP vocabulary.
 * @module
 */
export { acceleratorFor, buildCommandLine, effectiveSerials, machineFor } from './command-line.js';
export type { Accelerator, CommandLineContext } from './command-line.js';
export { Monitor } from './monitor.js';
export type { QmpCommands, RunState, StatusInfo, VersionInfo } from './monitor.js';
export { QemuProcess, tailLog } from './process.js';
export type { ExitInfo, LaunchOptions } from './process.js';
export { probeQemuVersion, checkKvmDevice } from './host-checks.js';
