/**
 * The test guest (guest/out, built by guest/build.sh) as a domain definition, and waiting
 * for what it prints on its serial console.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseHeartbeats, type Heartbeat } from '../../guest/heartbeat.js';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const GUEST_ENV = join(REPO, 'guest', 'out', 'guest.env');

/** The variables guest/build.sh wrote (FERRY_GUEST_KERNEL, _INITRD, _CMDLINE). */
function guestEnv(): Record<string, string> {
  if (!existsSync(GUEST_ENV)) {
    throw new Error(
      'The test guest is not built: run `npm run guest` (or `npm test`, which builds it)',
    );
  }
  const vars: Record<string, string> = {};
  for (const m of readFileSync(GUEST_ENV, 'utf8').matchAll(/^(\w+)=["']?(.*?)["']?$/gm)) {
    vars[m[1] ?? ''] = m[2] ?? '';
  }
  return vars;
}

function guestVar(name: string): string {
  const value = guestEnv()[name];
  if (value === undefined)
    throw new Error(`${GUEST_ENV} has no ${name}; rebuild with npm run guest`);
  return value;
}

/** The guest kernel: the uncompressed vmlinux, which boots seconds faster under TCG. */
export const guestKernel = (): string => guestVar('FERRY_GUEST_KERNEL');
export const guestInitrd = (): string => guestVar('FERRY_GUEST_INITRD');
/** The guest's recommended base kernel command line. */
export const guestBaseCmdline = (): string => guestVar('FERRY_GUEST_CMDLINE');

export interface GuestXmlOptions {
  name: string;
  uuid?: string;
  memoryMiB?: number;
  serialLog: string;
  hbMs?: number;
  dirtyMiB?: number;
  dirtyRate?: number;
  extraDevices?: string;
  type?: 'qemu' | 'kvm';
  kernel?: string;
  /** More kernel command-line keys, e.g. 'ferry.panic_after=1'. */
  extraCmdline?: string;
  /** Elements placed in <domain> before <memory>, e.g. a <metadata>. */
  extraTop?: string;
}

/** Domain XML for the test guest, with its serial console appended to `serialLog`. */
export function guestXml(o: GuestXmlOptions): string {
  const cmdline = [
    guestBaseCmdline(),
    `ferry.hb_ms=${o.hbMs ?? 500}`,
    `ferry.dirty_mb=${o.dirtyMiB ?? 0}`,
    `ferry.dirty_rate=${o.dirtyRate ?? 0}`,
    ...(o.extraCmdline === undefined ? [] : [o.extraCmdline]),
  ].join(' ');
  return `<domain type='${o.type ?? 'qemu'}'>
  <name>${o.name}</name>${o.uuid === undefined ? '' : `\n  <uuid>${o.uuid}</uuid>`}${o.extraTop ?? ''}
  <memory unit='MiB'>${o.memoryMiB ?? (o.dirtyMiB ?? 0) + 128}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${o.kernel ?? guestKernel()}</kernel>
    <initrd>${guestInitrd()}</initrd>
    <cmdline>${cmdline}</cmdline>
  </os>
  <devices>
    <serial type='file'>
      <source path='${o.serialLog}' append='on'/>
      <target port='0'/>
    </serial>${o.extraDevices ?? ''}
  </devices>
</domain>
`;
}

/** Heartbeats the guest has printed so far. */
export function readHeartbeats(serialLog: string): Heartbeat[] {
  try {
    return parseHeartbeats(readFileSync(serialLog, 'utf8'));
  } catch {
    return [];
  }
}

/** Waits until the guest has printed a heartbeat that satisfies `pred` (default: any). */
export async function waitForHeartbeat(
  serialLog: string,
  opts: { timeoutMs?: number; pred?: (hb: Heartbeat) => boolean } = {},
): Promise<Heartbeat> {
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  const pred = opts.pred ?? (() => true);
  while (Date.now() < deadline) {
    const hit = readHeartbeats(serialLog).find(pred);
    if (hit !== undefined) return hit;
    await new Promise((r) => setTimeout(r, 100));
  }
  const text = existsSync(serialLog)
    ? readFileSync(serialLog, 'utf8').slice(-600)
    : '(no serial log)';
  throw new Error(
    `No matching heartbeat in ${serialLog} within ${opts.timeoutMs ?? 90_000} ms; log tail:\n${text}`,
  );
}

/** Waits until the guest's console shows a line matching `pattern` (e.g. FERRY-ACPI-READY). */
export async function waitForConsole(
  serialLog: string,
  pattern: RegExp,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(serialLog) && pattern.test(readFileSync(serialLog, 'utf8'))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${serialLog} shows no ${String(pattern)} within ${timeoutMs} ms`);
}
