/**
 * What source and destination exchange about the guest's disks in prepare: proofs that the
 * shared ones are the same images, and the ones the source copies (migration/storage/).
 * @module
 */
import { z } from 'zod';

/** A shared disk's proof (see migration/storage/probe.ts for how each kind is checked). */
export const DiskProbe = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('marker'),
    dev: z.string(),
    path: z.string(),
    marker: z.string(),
    nonce: z.string(),
    size: z.number(),
  }),
  z.strictObject({
    /** An NFS disk: a marker file the source created next to the image on the server. */
    kind: z.literal('nfs-marker'),
    dev: z.string(),
    host: z.string(),
    /** Directory of the image on the server; the marker is DIR/MARKER. */
    dir: z.string(),
    marker: z.string().regex(/^ferry-probe-[0-9a-f]{32}$/),
    image: z.string(),
    virtualSize: z.number(),
  }),
  z.strictObject({
    /** A disk on a Ferry NBD export host: the export's description names pool and volume. */
    kind: z.literal('nbd-export'),
    dev: z.string(),
    host: z.string(),
    port: z.number().int(),
    export: z.string(),
    description: z.string(),
    size: z.number(),
  }),
  z.strictObject({
    kind: z.literal('header'),
    dev: z.string(),
    name: z.string(),
    virtualSize: z.number(),
    header: z.string(),
  }),
]);
export type DiskProbe = z.output<typeof DiskProbe>;

/** What the source tells the destination about a disk it is going to copy. */
export const CopiedDisk = z.strictObject({
  dev: z.string(),
  /** The target path (the same path as on the source). */
  path: z.string(),
  format: z.enum(['raw', 'qcow2']),
  virtualSize: z.number().int().min(0),
  /** Bytes allocated on the source: the room the copy needs at most. */
  allocated: z.number().int().min(0),
  /** An incremental copy: the overlay's backing file, which this host must have too. */
  backing: z.strictObject({ file: z.string(), format: z.string() }).optional(),
});
export type CopiedDisk = z.output<typeof CopiedDisk>;
