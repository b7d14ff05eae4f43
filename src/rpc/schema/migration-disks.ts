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
