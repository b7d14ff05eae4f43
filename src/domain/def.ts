/**
 * The domain definition model: the subset of libvirt's domain XML that Ferry understands,
 * hypervisor-neutral (like libvirt's src/conf). Anything the parser does not model is kept
 * as verbatim XML in an `extra` list on the nearest modelled parent, so dumpxml never drops it.
 * @module
 */

/** Verbatim XML of an element Ferry does not model, serialised exactly as it was parsed. */
export type RawXml = string;

/**
 * What a modelled element carried beyond the model: unknown attributes and, for leaf elements
 * such as a disk's <source>, unknown children. Kept so dumpxml reproduces them.
 */
export interface ElementExtra {
  /** Unmodelled attributes in document order, values unescaped. */
  attrs: Record<string, string>;
  /** Unmodelled child elements, verbatim, in document order. */
  children: RawXml[];
}

/**
 * {@link ElementExtra} keyed by element path relative to the owning definition's element:
 * '' for the element itself (attributes only; its unknown children are in `extra`), 'driver',
 * 'os/type', or 'boot[1]' for the second of a repeated element.
 */
export type ExtraByPath = Record<string, ElementExtra>;

export type DomainType = 'qemu' | 'kvm';
export type LifecycleAction = 'destroy' | 'restart' | 'preserve' | 'rename-restart';
export type CrashAction = LifecycleAction | 'coredump-destroy' | 'coredump-restart';
export type BootDevice = 'hd' | 'cdrom' | 'network' | 'fd';

export interface OsDef {
  /** Always 'hvm' for x86 QEMU guests. */
  type: 'hvm';
  arch: string;
  /** Machine type as written, e.g. 'pc', 'q35', 'pc-i440fx-7.2'. */
  machine?: string;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  boot: BootDevice[];
  extra: RawXml[];
  unmodelled?: ExtraByPath;
}

/** One child of <features>, e.g. <acpi/>, <apic/>, <pae/>. */
export interface FeatureDef {
  name: string;
  attrs: Record<string, string>;
  /** Children of the feature element kept verbatim (e.g. hyperv's sub-elements). */
  extra: RawXml[];
}

export type CpuMode = 'custom' | 'host-model' | 'host-passthrough' | 'maximum';
export type CpuFeaturePolicy = 'force' | 'require' | 'optional' | 'disable' | 'forbid';

export interface CpuDef {
  mode: CpuMode;
  match?: 'minimum' | 'exact' | 'strict';
  check?: 'none' | 'partial' | 'full';
  migratable?: 'on' | 'off';
  model?: { name: string; fallback?: 'allow' | 'forbid' };
  vendor?: string;
  topology?: { sockets: number; dies?: number; cores: number; threads: number };
  features: { policy: CpuFeaturePolicy; name: string }[];
  extra: RawXml[];
  unmodelled?: ExtraByPath;
}

export interface ClockDef {
  offset: string;
  extra: RawXml[];
  unmodelled?: ExtraByPath;
}

export type DiskBus = 'virtio' | 'sata' | 'ide' | 'scsi';

/** A disk QEMU opens itself over the network (libvirt's <disk type='network'>). */
export interface NetworkDiskSource {
  protocol: 'nbd' | 'nfs';
  /** NBD: the export name; NFS: the image's path on the server ('/export/vm.qcow2'). */
  name: string;
  host: string;
  /** Absent: the protocol's default (NBD 10809; NFS asks the server's portmapper). */
  port?: number;
  /** NFS: the user and group QEMU presents to the server (libvirt's <identity>). */
  identity?: { user?: string; group?: string };
}

/** A disk named by storage pool and volume (libvirt's <disk type='volume'>). */
export interface VolumeDiskSource {
  pool: string;
  volume: string;
}

export interface DiskDef {
  type: 'file' | 'block' | 'network' | 'volume';
  device: 'disk' | 'cdrom';
  driver: { name: 'qemu'; type: 'raw' | 'qcow2'; cache?: string; io?: string };
  /** Host path of the image or block device (types file and block); absent for an empty cdrom. */
  source?: string;
  /** Type network: where QEMU connects. */
  network?: NetworkDiskSource;
  /** Type volume: the pool and volume, resolved to a path or a network source at start. */
  volume?: VolumeDiskSource;
  target: { dev: string; bus: DiskBus };
  readonly: boolean;
  shareable: boolean;
  extra: RawXml[];
  unmodelled?: ExtraByPath;
}

export interface InterfaceDef {
  type: 'user' | 'network' | 'bridge';
  mac?: string;
  /** Network name for type 'network', bridge name for type 'bridge'. */
  source?: string;
  model?: string;
  extra: RawXml[];
  unmodelled?: ExtraByPath;
}

/** A serial port or console, as libvirt's character devices. */
export interface CharDevDef {
  type: 'pty' | 'file' | 'unix' | 'null';
  /** File path for 'file', socket path for 'unix'. */
  path?: string;
  /** File chardevs: append to the file instead of truncating it (append='on'). */
  append?: boolean;
  /** Unix chardevs: whether QEMU listens ('bind') or connects ('connect'). */
  mode?: 'bind' | 'connect';
  targetType?: string;
  targetPort?: number;
  extra: RawXml[];
  unmodelled?: ExtraByPath;
}

export interface GraphicsDef {
  type: 'vnc' | 'none';
  port?: number;
  autoport?: boolean;
  listen?: string;
  extra: RawXml[];
  unmodelled?: ExtraByPath;
}

/**
 * A panic device (libvirt's <panic>): how the guest kernel tells QEMU it panicked. Only the
 * ISA pvpanic device (port 0x505 unless `iobase` says otherwise) runs under Ferry.
 */
export interface PanicDef {
  model: 'isa';
  /** I/O port from <address type='isa' iobase='…'/>; QEMU's default 0x505 when absent. */
  iobase?: number;
  extra: RawXml[];
  unmodelled?: ExtraByPath;
}

/**
 * A passed-through host device: accepted and kept (so such a guest can be defined, and a
 * migration of it refused by the preflight naming the device), but it pins the guest to its
 * host and cannot start here.
 */
export interface HostdevDef {
  raw: RawXml;
  /** 'interface' for `<interface type='hostdev'>` (an SR-IOV VF); absent for `<hostdev>`. */
  element?: 'interface';
}

export interface DevicesDef {
  emulator?: string;
  disks: DiskDef[];
  interfaces: InterfaceDef[];
  serials: CharDevDef[];
  consoles: CharDevDef[];
  graphics: GraphicsDef[];
  hostdevs: HostdevDef[];
  panics: PanicDef[];
  /** Device elements Ferry does not model (controllers, memballoon, …), in document order. */
  extra: RawXml[];
}

export interface DomainDef {
  type: DomainType;
  name: string;
  /** Lower-case RFC 4122 text form; generated at parse time when the XML has none. */
  uuid: string;
  title?: string;
  description?: string;
  /** Maximum memory in KiB (<memory>). */
  memoryKiB: number;
  /** Current memory in KiB (<currentMemory>, defaults to memoryKiB). */
  currentMemoryKiB: number;
  vcpus: number;
  os: OsDef;
  features: FeatureDef[];
  cpu?: CpuDef;
  clock?: ClockDef;
  onPoweroff: LifecycleAction;
  onReboot: LifecycleAction;
  onCrash: CrashAction;
  devices: DevicesDef;
  /**
   * Ferry's own settings, read from `<metadata><ferry:watch xmlns:ferry='urn:ferry:domain:1.0'
   * …/></metadata>`. Derived at parse time: the <metadata> element itself stays verbatim in
   * `extra`, which is what dumpxml writes.
   */
  ferry?: FerrySettings;
  /** Top-level elements Ferry does not model (<metadata>, <qemu:commandline>, …). */
  extra: RawXml[];
  /**
   * Namespace declarations of the <domain> element (prefix → URI, '' for a default namespace);
   * verbatim extras such as <qemu:commandline> rely on them.
   */
  namespaces?: Record<string, string>;
  /** Unknown attributes of <domain> and of its text elements ('vcpu', 'memory', 'devices', …). */
  unmodelled?: ExtraByPath;
}

/** What a definition's <ferry:watch> metadata element says. */
export interface FerrySettings {
  /** False when the definition opts out of the pvpanic device Ferry adds by default. */
  pvpanic: boolean;
}

/** Names of elements the parser did not model, for the define-time warning. */
export interface ParseResult {
  def: DomainDef;
  /**
   * One line per unmodelled element or attribute, e.g. "unknown element <watchdog> in
   * <devices> kept verbatim" or "unknown attribute 'discard' on <driver> kept verbatim".
   */
  warnings: string[];
}
