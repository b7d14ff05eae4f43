/**
 * Schemas of the storage resources (pools and volumes), shared by ferryd, the CLI and peers.
 * @module
 */
import { z } from 'zod';

const Name = z.string().min(1, 'Pool name is required').max(255);
const Text = z.string().min(1).max(4096);

/** A pool named the virsh way (by name). */
export const PoolRef = z.strictObject({ pool: Name });

/** A volume by name with `pool`, or by key or path alone (virsh's vol-info VOL [--pool P]). */
export const VolRef = z.strictObject({
  vol: z.string().min(1, 'Volume name, key or path is required').max(4096),
  pool: Name.optional(),
});

/** pool-define-as / pool-create-as; the type stays a string so ferryd can say what is wrong with it. */
export const PoolDefineParams = z.strictObject({
  name: Name,
  type: z.string().min(1).max(64),
  sourceHost: Text.optional(),
  sourcePath: Text.optional(),
  sourceDev: Text.optional(),
  sourceName: Text.optional(),
  sourceFormat: z.string().min(1).max(64).optional(),
  target: Text.optional(),
});

export const PoolSummary = z.strictObject({
  name: z.string(),
  uuid: z.string(),
  type: z.string(),
  active: z.boolean(),
  persistent: z.boolean(),
  autostart: z.boolean(),
  /** Bytes; null while inactive. */
  capacity: z.number().nullable(),
  allocation: z.number().nullable(),
  available: z.number().nullable(),
  /** `nbd://HOST:PORT` while pool-export serves the pool. */
  exported: z.string().nullable(),
  /** A netfs pool's export (`nfs://HOST/PATH`) and its target, recorded but never mounted. */
  netfs: z.strictObject({ source: z.string(), target: z.string() }).optional(),
});
export type PoolSummary = z.infer<typeof PoolSummary>;

export const Volume = z.strictObject({
  pool: z.string(),
  name: z.string(),
  key: z.string(),
  path: z.string(),
  type: z.enum(['file', 'network']),
  format: z.string(),
  capacity: z.number(),
  allocation: z.number(),
  backing: z.strictObject({ path: z.string(), format: z.string().nullable() }).nullable(),
  description: z.string().nullable(),
});
export type Volume = z.infer<typeof Volume>;

export const ImageFormat = z.enum(['raw', 'qcow2']);

export const VolCreateParams = z.strictObject({
  pool: Name,
  name: z.string().min(1, 'Volume name is required').max(255),
  capacity: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  format: ImageFormat.default('raw'),
  backingVol: Text.optional(),
  backingFormat: ImageFormat.optional(),
});

export const PoolExportParams = PoolRef.extend({
  listen: z.string().min(1).max(255).default('0.0.0.0'),
  port: z.number().int().min(1).max(65535).default(10809),
});

const Named = z.strictObject({ name: z.string() });
const NamedWithWarnings = z.strictObject({ name: z.string(), warnings: z.array(z.string()) });

/** The storage methods, merged into METHODS (src/rpc/methods.ts). */
export const STORAGE_METHODS = {
  'pool.list': {
    doc: 'virsh pool-list: pools with their state and, while active, their sizes.',
    params: z.strictObject({ active: z.boolean(), inactive: z.boolean() }),
    result: z.strictObject({ pools: z.array(PoolSummary) }),
  },
  'pool.info': {
    doc: 'virsh pool-info for one pool.',
    params: PoolRef,
    result: PoolSummary,
  },
  'pool.define': {
    doc: 'virsh pool-define-as: a persistent, inactive pool (dir, nbd, netfs). Warnings name a target guests may not use.',
    params: PoolDefineParams,
    result: z.strictObject({ name: z.string(), uuid: z.string(), warnings: z.array(z.string()) }),
  },
  'pool.create': {
    doc: 'virsh pool-create-as: a transient pool, started at once (built first with `build`).',
    params: PoolDefineParams.extend({ build: z.boolean().default(false) }),
    result: z.strictObject({ name: z.string(), uuid: z.string(), warnings: z.array(z.string()) }),
  },
  'pool.build': {
    doc: "virsh pool-build: make an inactive pool's target directory.",
    params: PoolRef,
    result: Named,
  },
  'pool.start': {
    doc: 'virsh pool-start: check the target (dir) or that the server answers (nbd) or serves the export (netfs), then mark active.',
    params: PoolRef.extend({ build: z.boolean().default(false) }),
    result: Named,
  },
  'pool.destroy': {
    doc: 'virsh pool-destroy: stop the pool (and its export host); nothing is deleted.',
    params: PoolRef,
    result: Named,
  },
  'pool.undefine': {
    doc: 'virsh pool-undefine: forget an inactive persistent pool.',
    params: PoolRef,
    result: Named,
  },
  'pool.refresh': {
    doc: "virsh pool-refresh: re-read the volumes; an exported pool's exports follow them.",
    params: PoolRef,
    result: NamedWithWarnings,
  },
  'pool.getXml': {
    doc: 'virsh pool-dumpxml: libvirt pool XML, with live sizes unless `inactive`.',
    params: PoolRef.extend({ inactive: z.boolean().default(false) }),
    result: z.strictObject({ xml: z.string() }),
  },
  'pool.setAutostart': {
    doc: 'virsh pool-autostart [--disable]: start the pool whenever ferryd starts.',
    params: PoolRef.extend({ autostart: z.boolean() }),
    result: Named,
  },
  'pool.export': {
    doc: "Ferry's pool-export: serve an active dir pool's volumes as writable NBD exports from a qemu-storage-daemon on listen:port.",
    params: PoolExportParams,
    result: z.strictObject({ name: z.string(), uri: z.string(), warnings: z.array(z.string()) }),
  },
  'pool.unexport': {
    doc: "Ferry's pool-unexport: stop the pool's export host.",
    params: PoolRef,
    result: Named,
  },
  'vol.list': {
    doc: 'virsh vol-list: the volumes of an active pool.',
    params: PoolRef,
    result: z.strictObject({ volumes: z.array(Volume) }),
  },
  'vol.info': {
    doc: 'virsh vol-info / vol-path: one volume, by name in `pool` or by key or path.',
    params: VolRef,
    result: Volume,
  },
  'vol.create': {
    doc: 'virsh vol-create-as: a new raw or qcow2 image (qemu-img create) in a dir pool.',
    params: VolCreateParams,
    result: NamedWithWarnings,
  },
  'vol.delete': {
    doc: 'virsh vol-delete: remove a volume (its export first, refused while a client uses it).',
    params: VolRef,
    result: Named,
  },
  'vol.getXml': {
    doc: 'virsh vol-dumpxml.',
    params: VolRef,
    result: z.strictObject({ xml: z.string() }),
  },
} as const;

export type StorageMethodName = keyof typeof STORAGE_METHODS;
