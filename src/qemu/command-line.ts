/**
 * Builds QEMU's argv from a domain definition (libvirt's qemu_command.c, in small).
 * Pure: every path and choice comes in through {@link CommandLineContext}, so the
 * output can be checked against golden files.
 * @module
 */
import type { CharDevDef, CpuDef, DiskDef, DomainDef, InterfaceDef } from '../domain/def.js';
import { FerryError } from '../common/errors.js';
import { diskBackendArgs } from './disk-args.js';

export type Accelerator = 'tcg' | 'kvm';

export interface CommandLineContext {
  /** Path of the QMP unix socket QEMU listens on. */
  qmpSocket: string;
  pidFile: string;
  /** Start with vCPUs stopped (-S); the driver resumes after setting up the monitor. */
  startPaused: boolean;
  /** When set, QEMU waits for an incoming migration (`-incoming defer`). */
  incoming?: 'defer';
  /** The first pty serial port also logs here, so its output can be read back. */
  ptyLogFile?: string;
}

/** QEMU's accelerator for a domain type: 'qemu' runs under TCG, 'kvm' under KVM. */
export function acceleratorFor(def: DomainDef): Accelerator {
  return def.type === 'kvm' ? 'kvm' : 'tcg';
}

/** Machine type as QEMU spells it; libvirt's 'pc'/'q35' aliases pass through unchanged. */
export function machineFor(def: DomainDef): string {
  return def.os.machine ?? 'pc';
}

function cpuArg(cpu: CpuDef | undefined, accel: Accelerator): string | undefined {
  if (cpu === undefined) return undefined;
  let model: string;
  switch (cpu.mode) {
    case 'host-passthrough':
    case 'host-model':
      // TCG has no host CPU to copy; 'max' is its closest equivalent (libvirt does the same).
      model = accel === 'kvm' ? 'host' : 'max';
      break;
    case 'maximum':
      model = 'max';
      break;
    case 'custom':
      if (cpu.model === undefined) return undefined;
      model = cpu.model.name;
      break;
  }
  const flags = cpu.features.map((f) =>
    f.policy === 'disable' || f.policy === 'forbid' ? `${f.name}=off` : `${f.name}=on`,
  );
  return [model, ...flags].join(',');
}

function smpArg(def: DomainDef): string {
  const topo = def.cpu?.topology;
  if (topo === undefined) return String(def.vcpus);
  const dies = topo.dies === undefined ? '' : `,dies=${topo.dies}`;
  return `${def.vcpus},sockets=${topo.sockets}${dies},cores=${topo.cores},threads=${topo.threads}`;
}

/** Escapes a value for QEMU's comma-separated option syntax (a comma is doubled). */
export function qemuOptValue(value: string): string {
  return value.replaceAll(',', ',,');
}

function diskArgs(disk: DiskDef, index: number, state: { sata: boolean }): string[] {
  const { args, deviceOpts } = diskBackendArgs(disk);
  const devId = `${disk.target.bus}-disk${index}`;
  switch (disk.target.bus) {
    case 'virtio':
      if (disk.device === 'cdrom') {
        throw new FerryError(
          'CONFIG_UNSUPPORTED',
          `Disk '${disk.target.dev}': a cdrom cannot be on the virtio bus`,
        );
      }
      args.push('-device', `virtio-blk-pci${deviceOpts},id=${devId}`);
      break;
    case 'sata':
      if (!state.sata) {
        args.push('-device', 'ich9-ahci,id=sata0');
        state.sata = true;
      }
      args.push(
        '-device',
        `${disk.device === 'cdrom' ? 'ide-cd' : 'ide-hd'},bus=sata0.${sataUnit(disk.target.dev)}${deviceOpts},id=${devId}`,
      );
      break;
    case 'ide': {
      const unit = ideUnit(disk.target.dev);
      args.push(
        '-device',
        `${disk.device === 'cdrom' ? 'ide-cd' : 'ide-hd'},bus=ide.${Math.floor(unit / 2)},unit=${unit % 2}${deviceOpts},id=${devId}`,
      );
      break;
    }
    case 'scsi':
      throw new FerryError(
        'CONFIG_UNSUPPORTED',
        `Disk '${disk.target.dev}': the scsi bus is not supported yet`,
      );
  }
  return args;
}

/** sda → 0, sdb → 1 …; an AHCI controller has six ports. */
function sataUnit(dev: string): number {
  const unit = (dev.at(-1) ?? 'a').charCodeAt(0) - 'a'.charCodeAt(0);
  if (unit < 0 || unit > 5)
    throw new FerryError('CONFIG_UNSUPPORTED', `Disk target '${dev}' is beyond the six SATA ports`);
  return unit;
}

/** hda → 0 … hdd → 3: two IDE buses with two units each. */
function ideUnit(dev: string): number {
  const unit = (dev.at(-1) ?? 'a').charCodeAt(0) - 'a'.charCodeAt(0);
  if (unit < 0 || unit > 3)
    throw new FerryError('CONFIG_UNSUPPORTED', `Disk target '${dev}' is beyond the four IDE units`);
  return unit;
}

function interfaceArgs(nic: InterfaceDef, index: number): string[] {
  const id = `hostnet${index}`;
  let netdev: string;
  switch (nic.type) {
    case 'user':
      netdev = `user,id=${id}`;
      break;
    case 'bridge':
      netdev = `bridge,id=${id},br=${qemuOptValue(nic.source ?? 'br0')}`;
      break;
    case 'network':
      throw new FerryError(
        'CONFIG_UNSUPPORTED',
        `Interface ${index}: virtual network '${nic.source ?? 'default'}' is not available on this host; use type='user' or type='bridge'`,
      );
  }
  const model = nic.model ?? 'virtio';
  const device = model === 'virtio' ? 'virtio-net-pci' : model;
  const mac = nic.mac === undefined ? '' : `,mac=${nic.mac}`;
  return ['-netdev', netdev, '-device', `${device},netdev=${id},id=net${index}${mac}`];
}

function chardevArg(dev: CharDevDef, id: string, ptyLog: string | undefined): string {
  switch (dev.type) {
    case 'pty':
      return ptyLog === undefined
        ? `pty,id=${id}`
        : `pty,id=${id},logfile=${qemuOptValue(ptyLog)},logappend=on`;
    case 'null':
      return `null,id=${id}`;
    case 'file':
      if (dev.path === undefined)
        throw new FerryError('XML_ERROR', `Serial device '${id}' of type file needs a source path`);
      return `file,id=${id},path=${qemuOptValue(dev.path)}${dev.append === true ? ',append=on' : ''}`;
    case 'unix': {
      if (dev.path === undefined)
        throw new FerryError('XML_ERROR', `Serial device '${id}' of type unix needs a source path`);
      const server = dev.mode === 'connect' ? 'server=off' : 'server=on,wait=off';
      return `socket,id=${id},path=${qemuOptValue(dev.path)},${server}`;
    }
  }
}

/**
 * The serial ports QEMU gets: every <serial>, plus a <console type='serial'> only when no
 * <serial> shares its port (libvirt treats such a console as an alias of serial0).
 */
export function effectiveSerials(def: DomainDef): CharDevDef[] {
  const serials = [...def.devices.serials];
  for (const con of def.devices.consoles) {
    const port = con.targetPort ?? 0;
    const isSerial = con.targetType === undefined || con.targetType === 'serial';
    if (isSerial && !serials.some((s) => (s.targetPort ?? 0) === port)) serials.push(con);
  }
  return serials.sort((a, b) => (a.targetPort ?? 0) - (b.targetPort ?? 0));
}

/** Builds the argv (without the binary) that runs the domain. */
export function buildCommandLine(def: DomainDef, ctx: CommandLineContext): string[] {
  const accel = acceleratorFor(def);
  const args: string[] = [
    '-name',
    `guest=${qemuOptValue(def.name)},debug-threads=on`,
    '-uuid',
    def.uuid,
    '-no-user-config',
    '-nodefaults',
    '-machine',
    `${machineFor(def)},accel=${accel}`,
  ];
  const cpu = cpuArg(def.cpu, accel);
  if (cpu !== undefined) args.push('-cpu', cpu);
  args.push('-m', `size=${def.memoryKiB}k`, '-smp', smpArg(def));
  args.push(
    '-chardev',
    `socket,id=charmonitor,path=${qemuOptValue(ctx.qmpSocket)},server=on,wait=off`,
    '-mon',
    'chardev=charmonitor,id=monitor,mode=control',
    '-pidfile',
    ctx.pidFile,
  );
  const offset = def.clock?.offset ?? 'utc';
  args.push('-rtc', `base=${offset === 'localtime' ? 'localtime' : 'utc'}`);
  // Like libvirt: QEMU stays after the guest powers off, so ferryd (or a ferryd restarted
  // meanwhile) sees the 'shutdown' run state and knows why the guest stopped before ending it.
  args.push('-no-shutdown');
  // A panicked guest stays paused (status 'guest-panicked') instead of being reset or powered
  // off, so its console, its memory and the panic itself remain for inspection.
  args.push('-action', 'panic=pause');
  if (def.onReboot === 'destroy') args.push('-no-reboot');
  if (ctx.startPaused) args.push('-S');
  if (def.os.kernel !== undefined) args.push('-kernel', def.os.kernel);
  if (def.os.initrd !== undefined) args.push('-initrd', def.os.initrd);
  if (def.os.cmdline !== undefined) args.push('-append', def.os.cmdline);
  if (def.os.boot.length > 0 && def.os.kernel === undefined) {
    const letters: Record<string, string> = { hd: 'c', cdrom: 'd', network: 'n', fd: 'a' };
    args.push('-boot', `order=${def.os.boot.map((b) => letters[b] ?? 'c').join('')}`);
  }
  const sata = { sata: false };
  def.devices.disks.forEach((disk, i) => args.push(...diskArgs(disk, i, sata)));
  def.devices.interfaces.forEach((nic, i) => args.push(...interfaceArgs(nic, i)));
  effectiveSerials(def).forEach((serial, i) => {
    const id = `charserial${i}`;
    args.push(
      '-chardev',
      chardevArg(serial, id, i === 0 ? ctx.ptyLogFile : undefined),
      '-device',
      `isa-serial,chardev=${id},id=serial${i}`,
    );
  });
  def.devices.panics.forEach((panic, i) => {
    const ioport = panic.iobase === undefined ? '' : `,ioport=${panic.iobase}`;
    args.push('-device', `pvpanic,id=panic${i}${ioport}`);
  });
  const vnc = def.devices.graphics.find((g) => g.type === 'vnc');
  if (vnc !== undefined) {
    const listen = vnc.listen ?? '127.0.0.1';
    // autoport: let QEMU find a free display from :0 up, as libvirt's 5900+ allocation does.
    const display =
      vnc.autoport === false && vnc.port !== undefined ? `${vnc.port - 5900}` : '0,to=99';
    args.push('-vnc', `${listen}:${display}`, '-device', 'VGA,id=video0');
  } else {
    args.push('-display', 'none');
  }
  const hostdev = def.devices.hostdevs[0];
  if (hostdev !== undefined) {
    const what = hostdev.element === 'interface' ? "an <interface type='hostdev'>" : 'a <hostdev>';
    throw new FerryError(
      'CONFIG_UNSUPPORTED',
      `Domain '${def.name}' has ${what}: device passthrough is not supported on this host`,
    );
  }
  if (ctx.incoming !== undefined) args.push('-incoming', ctx.incoming);
  args.push('-msg', 'timestamp=on');
  return args;
}
