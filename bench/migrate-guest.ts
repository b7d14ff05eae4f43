/**
 * The benchmark guest, the same for the three ways of migrating it: the test guest (512 MiB,
 * 1 vCPU, TCG), heartbeat every 10 ms, its serial port a unix socket to a {@link SerialTap}
 * (see serial-tap.ts for why), idle or dirtying a 64 MiB working set.
 */
import { guestBaseCmdline, guestInitrd, guestKernel } from '../test/helpers/guest.js';

export const MEMORY_MIB = 512;
/** Heartbeat period: bounds how late the first destination heartbeat can be (10 is the least). */
export const HB_MS = 10;
/** Time to boot and to fill the working set before each migration. */
export const SETTLE_MS = 6000;

export interface GuestKind {
  label: string;
  /** MiB/s the guest rewrites; 0 = idle. Pre-copy of TCG guests stays ≤ 20 (NOTES.md). */
  dirtyRate: number;
}

export const GUESTS: readonly GuestKind[] = [
  { label: 'idle', dirtyRate: 0 },
  { label: 'dirtying 10 MiB/s', dirtyRate: 10 },
];

export function guestCmdline(g: GuestKind): string {
  const dirtyMiB = g.dirtyRate === 0 ? 0 : 64;
  return `${guestBaseCmdline()} ferry.hb_ms=${HB_MS} ferry.dirty_mb=${dirtyMiB} ferry.dirty_rate=${g.dirtyRate}`;
}

const os = (g: GuestKind): string => `<os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${guestKernel()}</kernel>
    <initrd>${guestInitrd()}</initrd>
    <cmdline>${guestCmdline(g)}</cmdline>
  </os>`;

const serial = (tap: string): string =>
  `<serial type='unix'><source mode='connect' path='${tap}'/><target port='0'/></serial>`;

/** Domain XML as Ferry takes it (also the source of the bare QEMU's argv). */
export function ferryXml(name: string, g: GuestKind, tap: string): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>${MEMORY_MIB}</memory>
  <vcpu>1</vcpu>
  ${os(g)}
  <devices>${serial(tap)}</devices>
</domain>
`;
}

/** The same guest for libvirt, without the devices libvirt adds by default (USB, balloon). */
export function libvirtXml(name: string, g: GuestKind, tap: string): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>${MEMORY_MIB}</memory>
  <vcpu>1</vcpu>
  ${os(g)}
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    ${serial(tap)}
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}
