/**
 * Volume resolution for guests: what a disk's `<source pool= volume=/>` names, as a source
 * QEMU can open. This is the contract the domain launcher codes against; ferryd's pool
 * manager implements it.
 * @module
 */

/** Where a volume's bytes are, as a QEMU disk source. */
export type VolumeSource =
  | { type: 'file'; path: string } // dir pools
  | { type: 'network'; protocol: 'nbd'; host: string; port: number; name: string } // nbd pools (export name)
  | { type: 'network'; protocol: 'nfs'; host: string; port?: number; name: string }; // netfs via libnfs (path on the server, e.g. '/srv/nfs/vm.qcow2')

export interface ResolvedVolume {
  pool: string;
  volume: string;
  source: VolumeSource;
  format: 'raw' | 'qcow2';
  /** Guest-visible size in bytes. */
  capacity: number;
}

/**
 * ferryd-side: resolve `<source pool= volume=/>`; FerryError NO_STORAGE_POOL / NO_STORAGE_VOL
 * (virsh's wording) when missing or the pool is inactive.
 */
export interface VolumeResolver {
  resolveVolume(pool: string, volume: string): Promise<ResolvedVolume>;
}
