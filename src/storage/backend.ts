/**
 * What every pool type implements (dir, nbd, netfs): a PoolBackend works on
 * one pool's definition; the pool manager above it keeps state, locks and persistence.
 * @module
 */
import type { ImageFormat } from './qemu-img.js';
import type { VolumeSource } from './resolve.js';

/** A volume as vol-list, vol-info and vol-dumpxml show it. */
export interface VolumeInfo {
  name: string;
  /** Unique on the host: a dir volume's path, an nbd volume's URI. */
  key: string;
  /** vol-path: a file path, or `nbd://HOST:PORT/EXPORT`. */
  path: string;
  /** virsh's volume type: 'file' for files, 'network' for a server's export. */
  type: 'file' | 'network';
  /** The image format QEMU opens the volume with. */
  format: string;
  /** Guest-visible size in bytes. */
  capacity: number;
  /** Bytes the volume takes up on its storage. */
  allocation: number;
  /** A qcow2 overlay's backing file. */
  backing?: { path: string; format: string | undefined };
  /** The export's description (nbd). */
  description?: string;
}

/** pool-info's sizes, plus a dir pool's target permissions for pool-dumpxml. */
export interface PoolSpace {
  capacity: number;
  allocation: number;
  available: number;
  permissions?: { mode: number; owner: number; group: number };
}

export interface CreateVolumeRequest {
  name: string;
  capacity: number;
  format: ImageFormat;
  /** A volume of the same pool this one is a qcow2 overlay of. */
  backing?: { path: string; format: ImageFormat };
}

export interface PoolBackend {
  /** pool-build: make what the pool needs (a dir pool's directory). */
  build(): Promise<void>;
  /** pool-start: check the pool can be used now; throws saying why not. */
  start(): Promise<void>;
  /** pool-destroy: let go of the pool (nothing is deleted). */
  stop(): Promise<void>;
  /** pool-refresh: re-read what the pool holds. */
  refresh(): Promise<void>;
  info(): Promise<PoolSpace>;
  list(): Promise<VolumeInfo[]>;
  /** One volume by name; undefined when there is none. */
  volume(name: string): Promise<VolumeInfo | undefined>;
  createVolume(req: CreateVolumeRequest): Promise<VolumeInfo>;
  deleteVolume(vol: VolumeInfo): Promise<void>;
  /** Where QEMU finds a volume's bytes. */
  source(vol: VolumeInfo): VolumeSource;
}
