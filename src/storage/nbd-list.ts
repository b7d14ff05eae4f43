/**
 * The exports an NBD server offers, as `qemu-nbd --list` prints them (name, description, size).
 * @module
 */
import { FerryError } from '../common/errors.js';
import { runTool } from './tools.js';

export interface NbdExport {
  name: string;
  /** The export's description; Ferry's export host writes `ferry-volume pool=UUID volume=NAME`. */
  description: string | undefined;
  size: number;
}

/** Parses the output of `qemu-nbd --list`; exported for tests on recorded output. */
export function parseNbdList(text: string): NbdExport[] {
  const exports: NbdExport[] = [];
  let current: NbdExport | undefined;
  for (const line of text.split('\n')) {
    const name = /^ export: '(.*)'$/.exec(line);
    if (name !== null) {
      current = { name: name[1] ?? '', description: undefined, size: 0 };
      exports.push(current);
      continue;
    }
    if (current === undefined) continue;
    const description = /^ {2}description: (.*)$/.exec(line);
    if (description !== null) current.description = description[1];
    const size = /^ {2}size: +(\d+)$/.exec(line);
    if (size !== null) current.size = Number(size[1]);
  }
  return exports;
}

/** Lists the exports of the NBD server at host:port; CONNECT_FAILED naming it when it does not answer. */
export async function listNbdExports(host: string, port: number): Promise<NbdExport[]> {
  try {
    const { stdout } = await runTool(
      'qemu-nbd',
      ['--list', '-b', host, '-p', String(port)],
      `cannot list the exports of the NBD server at ${host}:${port}`,
    );
    return parseNbdList(stdout);
  } catch (err) {
    if (err instanceof FerryError)
      throw new FerryError('CONNECT_FAILED', err.message, { cause: err });
    throw err;
  }
}

/** The description Ferry's export host gives a volume's export, so clients can tell the image. */
export function exportDescription(poolUuid: string, volume: string): string {
  return `ferry-volume pool=${poolUuid} volume=${volume}`;
}
