/**
 * nbd pools (Ferry's own type): the exports of an NBD server, such as a storage host running
 * `ferry pool-export`. The volumes are made on the storage host; here they are only listed
 * (from the last start or refresh) and handed to QEMU as network disks.
 * @module
 */
import { FerryError } from '../common/errors.js';
import { formatHostPort } from '../rpc/index.js';
import type { PoolBackend, PoolSpace, VolumeInfo } from './backend.js';
import { listNbdExports, type NbdExport } from './nbd-list.js';
import { nbdAddress, type PoolDef } from './pool-def.js';
import type { VolumeSource } from './resolve.js';

/** `nbd://HOST:PORT/EXPORT`, QEMU's own URI syntax for an NBD export. */
export function nbdUri(host: string, port: number, name: string): string {
  return `nbd://${formatHostPort(host, port)}/${encodeURIComponent(name)}`;
}

export class NbdBackend implements PoolBackend {
  readonly #host: string;
  readonly #port: number;
  readonly #poolName: string;
  #exports: NbdExport[] = [];

  constructor(def: PoolDef) {
    const { host, port } = nbdAddress(def);
    this.#host = host;
    this.#port = port;
    this.#poolName = def.name;
  }

  build(): Promise<void> {
    return Promise.reject(
      new FerryError(
        'NO_SUPPORT',
        `this function is not supported by the connection driver: an nbd pool has nothing to build; its volumes live on the storage host ${this.#host}`,
      ),
    );
  }

  async start(): Promise<void> {
    this.#exports = await listNbdExports(this.#host, this.#port);
  }

  stop(): Promise<void> {
    this.#exports = [];
    return Promise.resolve();
  }

  refresh(): Promise<void> {
    return this.start();
  }

  info(): Promise<PoolSpace> {
    // A server tells the size of each export, not its free space: the pool's capacity is what
    // its exports add up to.
    const total = this.#exports.reduce((sum, e) => sum + e.size, 0);
    return Promise.resolve({ capacity: total, allocation: total, available: 0 });
  }

  list(): Promise<VolumeInfo[]> {
    return Promise.resolve(
      [...this.#exports].sort((a, b) => a.name.localeCompare(b.name)).map((e) => this.#volumeOf(e)),
    );
  }

  async volume(name: string): Promise<VolumeInfo | undefined> {
    let found = this.#exports.find((e) => e.name === name);
    if (found === undefined) {
      // Made on the storage host since the last refresh: look once more before saying no.
      await this.refresh();
      found = this.#exports.find((e) => e.name === name);
    }
    return found === undefined ? undefined : this.#volumeOf(found);
  }

  createVolume(): Promise<VolumeInfo> {
    return Promise.reject(this.#elsewhere('create'));
  }

  deleteVolume(): Promise<void> {
    return Promise.reject(this.#elsewhere('delete'));
  }

  source(vol: VolumeInfo): VolumeSource {
    return { type: 'network', protocol: 'nbd', host: this.#host, port: this.#port, name: vol.name };
  }

  #volumeOf(e: NbdExport): VolumeInfo {
    const uri = nbdUri(this.#host, this.#port, e.name);
    return {
      name: e.name,
      key: uri,
      path: uri,
      type: 'network',
      // The export serves the guest-visible bytes, whatever the image's format on the server.
      format: 'raw',
      capacity: e.size,
      allocation: e.size,
      ...(e.description === undefined ? {} : { description: e.description }),
    };
  }

  #elsewhere(verb: 'create' | 'delete'): FerryError {
    return new FerryError(
      'OPERATION_INVALID',
      `Requested operation is not valid: pool '${this.#poolName}' holds the exports of the NBD server ${formatHostPort(this.#host, this.#port)}; ${verb} the volume on the storage host (ferry vol-${verb === 'create' ? 'create-as' : 'delete'} there, in the pool it exports), then run pool-refresh here`,
    );
  }
}
