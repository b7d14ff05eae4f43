/**
 * Where pools are kept, the way libvirt keeps them: persistent definitions as pool XML in
 * STATE_DIR/storage/NAME.xml, autostart as a link in STATE_DIR/storage/autostart/, and the
 * pools active now (transient ones too) in RUN_DIR/storage/NAME.xml, so a restarted ferryd
 * knows which to take up again. Every write is atomic.
 * @module
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../domain/store.js';
import { formatPoolXml, parsePoolXml } from './pool-xml.js';
import type { PoolDef } from './pool-def.js';

/** A definition read back, or the error that made it unreadable. */
export type Loaded = { file: string; def: PoolDef } | { file: string; error: unknown };

export class PoolStore {
  readonly #configDir: string;
  readonly #autostartDir: string;
  readonly #statusDir: string;

  constructor(configDir: string, statusDir: string) {
    this.#configDir = configDir;
    this.#autostartDir = join(configDir, 'autostart');
    this.#statusDir = statusDir;
    mkdirSync(this.#autostartDir, { recursive: true, mode: 0o700 });
    mkdirSync(statusDir, { recursive: true, mode: 0o700 });
  }

  /** RUN_DIR/storage: status files, and the export hosts' sockets and pidfiles. */
  get runDir(): string {
    return this.#statusDir;
  }

  saveConfig(def: PoolDef): void {
    writeFileAtomic(join(this.#configDir, `${def.name}.xml`), formatPoolXml(def));
  }

  removeConfig(name: string): void {
    rmSync(join(this.#configDir, `${name}.xml`), { force: true });
    this.setAutostart(name, false);
  }

  setAutostart(name: string, on: boolean): void {
    const link = join(this.#autostartDir, `${name}.xml`);
    rmSync(link, { force: true });
    if (on) symlinkSync(join('..', `${name}.xml`), link);
  }

  autostart(name: string): boolean {
    return existsSync(join(this.#autostartDir, `${name}.xml`));
  }

  saveStatus(def: PoolDef): void {
    writeFileAtomic(join(this.#statusDir, `${def.name}.xml`), formatPoolXml(def));
  }

  removeStatus(name: string): void {
    rmSync(join(this.#statusDir, `${name}.xml`), { force: true });
  }

  loadConfigs(): Loaded[] {
    return loadDir(this.#configDir);
  }

  loadStatuses(): Loaded[] {
    return loadDir(this.#statusDir);
  }
}

function loadDir(dir: string): Loaded[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.xml') && !f.startsWith('.'))
    .sort()
    .map((f) => {
      const file = join(dir, f);
      try {
        return { file, def: parsePoolXml(readFileSync(file, 'utf8')) };
      } catch (error) {
        return { file, error };
      }
    });
}
