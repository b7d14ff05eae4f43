/**
 * What differs between pool types once a definition exists: the backend that works on it, the
 * source two pools may not share, and the definition pool-define-as's arguments describe.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { PoolBackend } from './backend.js';
import { DirBackend } from './dir-backend.js';
import { NbdBackend } from './nbd-backend.js';
import { NetfsBackend } from './netfs-backend.js';
import {
  checkPoolDef,
  DEFAULT_NBD_PORT,
  netfsLocation,
  parseHostPort,
  poolTypeOf,
  type PoolDef,
  type PoolSource,
} from './pool-def.js';

/** pool-define-as / pool-create-as, as the command line gives them. */
export interface DefinePoolRequest {
  name: string;
  type: string;
  sourceHost?: string | undefined;
  sourcePath?: string | undefined;
  sourceDev?: string | undefined;
  sourceName?: string | undefined;
  sourceFormat?: string | undefined;
  target?: string | undefined;
}

export function backendFor(def: PoolDef): PoolBackend {
  switch (def.type) {
    case 'dir':
      return new DirBackend(def);
    case 'nbd':
      return new NbdBackend(def);
    case 'netfs':
      return new NetfsBackend(def);
  }
}

/** The definition a pool-define-as request describes, with a fresh UUID. */
export function poolDefOf(req: DefinePoolRequest): PoolDef {
  const type = poolTypeOf(req.type);
  const source: PoolSource = {};
  if (req.sourceHost !== undefined) source.host = parseHostPort(req.sourceHost);
  if (req.sourcePath !== undefined) source.dir = req.sourcePath;
  if (req.sourceDev !== undefined) source.device = req.sourceDev;
  if (req.sourceName !== undefined) source.name = req.sourceName;
  if (req.sourceFormat !== undefined) source.format = req.sourceFormat;
  const def: PoolDef = {
    type,
    name: req.name,
    uuid: randomUUID(),
    source,
    ...(req.target === undefined ? {} : { target: req.target }),
  };
  checkPoolDef(def);
  return def;
}

/**
 * What two pools would both claim: the same directory, NBD server or NFS export (libvirt's
 * "Storage source conflict"). A netfs pool's target is only recorded, so it claims nothing.
 */
export function sourceKey(def: PoolDef): string {
  if (def.type === 'netfs') {
    const { host, exportPath } = netfsLocation(def);
    return `nfs:${host}:${exportPath}`;
  }
  if (def.type === 'nbd')
    return `nbd:${def.source.host?.name ?? ''}:${def.source.host?.port ?? DEFAULT_NBD_PORT}`;
  return `path:${def.target ?? ''}`;
}
