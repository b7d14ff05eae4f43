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
export const GUEST_KERNEL = join(REPO, 'guest', 'out', 'vmlinuz');
export const GUEST_INITRD = join(REPO, 'guest', 'out', 'initrd.img');

/** The guest's recommended base kernel command line, as guest/build.sh wrote it. */
export function guestBaseCmdline(): string {
  const env = join(REPO, 'guest', 'out', 'guest.env');
  if (!existsSync(GUEST_KERNEL) || !existsSync(env)) {
    throw new Error(
      'The test guest is not built: run `npm run guest` (or `npm test`, which builds it)',
    );
  }
  const m = /^FERRY_GUEST_CMDLINE=["']?(.*?)["']?$/m.exec(readFileSync(env, 'utf8'));
  return m?.[1] ?? 'console=ttyS0';
}

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
}

/** Domain XML for the test guest, with its serial console appended to `serialLog`. */
export function guestXml(o: GuestXmlOptions): string {
  const cmdline = [
    guestBaseCmdline(),
    `ferry.hb_ms=${o.hbMs ?? 500}`,
    `ferry.dirty_mb=${o.dirtyMiB ?? 0}`,
    `ferry.dirty_rate=${o.dirtyRate ?? 0}`,
  ].join(' ');
  return `<domain type='${o.type ?? 'qemu'}'>
  <name>${o.name}</name>${o.uuid === undefined ? '' : `\n  <uuid>${o.uuid}</uuid>`}
  <memory unit='MiB'>${o.memoryMiB ?? 128}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${o.kernel ?? GUEST_KERNEL}</kernel>
    <initrd>${GUEST_INITRD}</initrd>
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
