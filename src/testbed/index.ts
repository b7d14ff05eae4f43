/**
 * The testbed: N Ferry hosts on this machine for tests, the demo and benchmarks. As root each
 * host is a network namespace on the testbed's own bridge (in a "switch" namespace), with mount
 * and UTS namespaces giving it its own /etc/ferry, /var/lib/ferry, /run/ferry, /root/.ssh,
 * /etc/hosts, /etc/pki and /usr/local/bin, and runs its own ferryd and sshd; links can be cut,
 * restored and shaped (tc tbf). Without root the hosts are loopback addresses with their own
 * directories. Everything is recorded under /run/ferry-testbed/NAME/testbed.json, so
 * cleanupTestbeds() removes it all even after the owner crashed.
 * @module
 */
export type { CommandResult } from './processes.js';
export type { ExecOptions, HostPaths, SpawnOptions, TestbedHost } from './host.js';
export type { Testbed, TestbedOptions } from './testbed.js';
export type { TestbedRecord, HostRecord } from './state.js';
export { createTestbed, listTestbeds, openTestbed } from './testbed.js';
export { cleanupTestbeds } from './cleanup.js';
export { NOT_ROOT_NOTICE, decideIsolation } from './naming.js';
