/**
 * Domain storage on disk, split the way libvirt splits it: one `NAME.xml` per persistent
 * definition (config) and one `UUID.json` per running domain (status, for re-attaching after
 * a restart). Every write is atomic: a temp file is written and fsynced, then renamed.
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/** Writes `data` to `path` so that readers see either the old file or the whole new one. */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  // Make the rename itself durable.
  const dirFd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** What ferryd remembers about a running domain across its own restarts. */
export interface RuntimeStatus {
  uuid: string;
  name: string;
  id: number;
  pid: number;
  qmpSocket: string;
  /** The definition the domain runs with (may differ from the persistent config). */
  liveXml: string;
  persistent: boolean;
  startedAt: number;
}

export interface StoredConfig {
  file: string;
  xml: string;
}

export class DomainStore {
  constructor(
    readonly configDir: string,
    readonly statusDir: string,
  ) {
    mkdirSync(configDir, { recursive: true, mode: 0o700 });
    mkdirSync(statusDir, { recursive: true, mode: 0o700 });
  }

  configPath(name: string): string {
    return join(this.configDir, `${name}.xml`);
  }

  /** Every stored definition, as text; parsing is the caller's business. */
  loadConfigs(): StoredConfig[] {
    return readdirSync(this.configDir)
      .filter((f) => f.endsWith('.xml') && !f.startsWith('.'))
      .sort()
      .map((f) => ({
        file: join(this.configDir, f),
        xml: readFileSync(join(this.configDir, f), 'utf8'),
      }));
  }

  saveConfig(name: string, xml: string): void {
    writeFileAtomic(this.configPath(name), xml);
  }

  removeConfig(name: string): void {
    rmSync(this.configPath(name), { force: true });
  }

  saveStatus(status: RuntimeStatus): void {
    writeFileAtomic(
      join(this.statusDir, `${status.uuid}.json`),
      `${JSON.stringify(status, null, 2)}\n`,
    );
  }

  removeStatus(uuid: string): void {
    rmSync(join(this.statusDir, `${uuid}.json`), { force: true });
  }

  /** Status files left by an earlier ferryd; unreadable ones are returned as errors. */
  loadStatuses(): { statuses: RuntimeStatus[]; errors: string[] } {
    const statuses: RuntimeStatus[] = [];
    const errors: string[] = [];
    for (const f of readdirSync(this.statusDir)) {
      if (!f.endsWith('.json') || f.startsWith('.')) continue;
      try {
        statuses.push(JSON.parse(readFileSync(join(this.statusDir, f), 'utf8')) as RuntimeStatus);
      } catch (err) {
        errors.push(`${f}: ${String(err)}`);
      }
    }
    return { statuses, errors };
  }
}
