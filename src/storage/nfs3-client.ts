/**
 * Just enough of an NFSv3 client to remove a file without a kernel NFS client: ONC RPC over
 * TCP (RFC 5531, record marking) with AUTH_SYS as root, the portmapper's GETPORT (RFC 1833),
 * MOUNT v3 MNT/UMNT and NFS v3 REMOVE (RFC 1813). libnfs-utils has no remove tool and QEMU
 * cannot delete an image, so this is how a netfs volume is deleted.
 * @module
 */
import { Socket } from 'node:net';
import { FerryError } from '../common/errors.js';

const PORTMAP = { prog: 100000, vers: 2, port: 111, GETPORT: 3 } as const;
const MOUNT3 = { prog: 100005, vers: 3, MNT: 1, UMNT: 3 } as const;
const NFS3 = { prog: 100003, vers: 3, REMOVE: 12 } as const;
const IPPROTO_TCP = 6;
/** A reply larger than this is not one of ours. */
const MAX_REPLY_BYTES = 1 << 20;
const DEFAULT_TIMEOUT_MS = 30_000;

/** XDR encoding (RFC 4506): big-endian 32-bit words, opaque data padded to 4 bytes. */
export class XdrWriter {
  readonly #parts: Buffer[] = [];
  uint(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    this.#parts.push(b);
    return this;
  }
  opaque(data: Buffer): this {
    this.uint(data.length);
    this.#parts.push(data, Buffer.alloc((4 - (data.length % 4)) % 4));
    return this;
  }
  string(s: string): this {
    return this.opaque(Buffer.from(s, 'utf8'));
  }
  bytes(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

export class XdrReader {
  #pos = 0;
  constructor(private readonly buf: Buffer) {}
  uint(): number {
    if (this.#pos + 4 > this.buf.length) throw truncated();
    const n = this.buf.readUInt32BE(this.#pos);
    this.#pos += 4;
    return n;
  }
  opaque(): Buffer {
    const len = this.uint();
    if (this.#pos + len > this.buf.length) throw truncated();
    const data = this.buf.subarray(this.#pos, this.#pos + len);
    this.#pos += len + ((4 - (len % 4)) % 4);
    return data;
  }
}

const truncated = (): FerryError =>
  new FerryError('SYSTEM_ERROR', 'NFS server sent a truncated RPC reply');

/** AUTH_SYS credentials of root (QEMU and qemu-img create the images as root too). */
function authSys(): Buffer {
  const body = new XdrWriter().uint(0).string('ferry').uint(0).uint(0).uint(0).bytes();
  return new XdrWriter().uint(1).opaque(body).bytes();
}

let nextXid = (Date.now() & 0xffff) << 16;

/** One RPC call message (RFC 5531 §9), with its record mark (a single last fragment). */
export function callMessage(
  xid: number,
  prog: number,
  vers: number,
  proc: number,
  args: Buffer,
): Buffer {
  const msg = new XdrWriter().uint(xid).uint(0).uint(2).uint(prog).uint(vers).uint(proc).bytes();
  const verf = new XdrWriter().uint(0).uint(0).bytes();
  const body = Buffer.concat([msg, authSys(), verf, args]);
  const mark = Buffer.alloc(4);
  mark.writeUInt32BE((0x80000000 | body.length) >>> 0);
  return Buffer.concat([mark, body]);
}

/** The results of an accepted, successful reply to call `xid`; anything else throws. */
export function replyResults(xid: number, reply: Buffer, what: string): XdrReader {
  const r = new XdrReader(reply);
  if (r.uint() !== xid || r.uint() !== 1)
    throw new FerryError('SYSTEM_ERROR', `${what}: not a reply to our call`);
  if (r.uint() !== 0)
    throw new FerryError('SYSTEM_ERROR', `${what}: RPC call denied by the server`);
  r.uint(); // verifier flavor
  r.opaque(); // verifier body
  const accept = r.uint();
  if (accept !== 0)
    throw new FerryError('SYSTEM_ERROR', `${what}: RPC not accepted (accept_stat ${accept})`);
  return r;
}

/** Sends one call on a new TCP connection and returns the reply's record (fragments joined). */
function exchange(host: string, port: number, call: Buffer, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = new Socket();
    let buf = Buffer.alloc(0);
    const fragments: Buffer[] = [];
    const fail = (why: string, cause?: unknown): void => {
      sock.destroy();
      reject(new FerryError('SYSTEM_ERROR', `${what}: ${why}`, { cause }));
    };
    sock.setTimeout(DEFAULT_TIMEOUT_MS, () => {
      fail(`no answer from ${host}:${port} within ${DEFAULT_TIMEOUT_MS} ms`);
    });
    sock.on('error', (err) => {
      fail(`cannot talk to ${host}:${port}: ${err.message}`, err);
    });
    sock.on('close', () => {
      fail(`${host}:${port} closed the connection`);
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4) {
        const mark = buf.readUInt32BE(0);
        const len = mark & 0x7fffffff;
        if (len > MAX_REPLY_BYTES) return fail('RPC reply too large');
        if (buf.length < 4 + len) return;
        fragments.push(buf.subarray(4, 4 + len));
        buf = buf.subarray(4 + len);
        if ((mark & 0x80000000) !== 0) {
          sock.removeAllListeners('close');
          sock.destroy();
          resolve(Buffer.concat(fragments));
          return;
        }
      }
    });
    sock.connect(port, host, () => sock.write(call));
  });
}

async function rpc(
  host: string,
  port: number,
  prog: number,
  vers: number,
  proc: number,
  args: Buffer,
  what: string,
): Promise<XdrReader> {
  nextXid = (nextXid + 1) >>> 0;
  const xid = nextXid;
  const reply = await exchange(host, port, callMessage(xid, prog, vers, proc, args), what);
  return replyResults(xid, reply, what);
}

/** The TCP port of an RPC program on `host`, from its portmapper. */
async function getPort(host: string, prog: number, vers: number): Promise<number> {
  const what = `portmapper of ${host}`;
  const args = new XdrWriter().uint(prog).uint(vers).uint(IPPROTO_TCP).uint(0).bytes();
  const port = (
    await rpc(host, PORTMAP.port, PORTMAP.prog, PORTMAP.vers, PORTMAP.GETPORT, args, what)
  ).uint();
  if (port === 0)
    throw new FerryError('SYSTEM_ERROR', `${what}: RPC program ${prog} v${vers} is not registered`);
  return port;
}

/** NFS v3 and MOUNT v3 status codes worth naming (RFC 1813 §2.6, §5.1.5; same numbers). */
const STATUS_NAMES: Readonly<Record<number, string>> = {
  1: 'ERR_PERM',
  2: 'ERR_NOENT',
  5: 'ERR_IO',
  13: 'ERR_ACCES',
  20: 'ERR_NOTDIR',
  21: 'ERR_ISDIR',
  30: 'ERR_ROFS',
  66: 'ERR_NOTEMPTY',
  70: 'ERR_STALE',
};

/** An NFS or MOUNT call answered with an error status. */
export class Nfs3StatusError extends FerryError {
  override readonly name = 'Nfs3StatusError';
  constructor(
    readonly what: string,
    readonly status: number,
    protocol: 'NFS3' | 'MNT3',
  ) {
    const name = STATUS_NAMES[status];
    super(
      'OPERATION_FAILED',
      `${what} failed with ${name === undefined ? `status ${status}` : `${protocol}${name}`}`,
      { data: { status } },
    );
  }
}

/**
 * Removes `name` from directory `dir` on `host` (NFSv3 MNT of `dir`, REMOVE, UMNT). A missing
 * file is an Nfs3StatusError with status 2 (NFS3ERR_NOENT).
 */
export async function nfs3Remove(host: string, dir: string, name: string): Promise<void> {
  const mountPort = await getPort(host, MOUNT3.prog, MOUNT3.vers);
  const dirArg = new XdrWriter().string(dir).bytes();
  const mnt = await rpc(
    host,
    mountPort,
    MOUNT3.prog,
    MOUNT3.vers,
    MOUNT3.MNT,
    dirArg,
    `mount of ${host}:${dir}`,
  );
  const mntStatus = mnt.uint();
  if (mntStatus !== 0) throw new Nfs3StatusError(`mount of ${host}:${dir}`, mntStatus, 'MNT3');
  const dirHandle = mnt.opaque();
  try {
    const nfsPort = await getPort(host, NFS3.prog, NFS3.vers);
    const args = new XdrWriter().opaque(dirHandle).string(name).bytes();
    const what = `remove of ${host}:${dir}/${name}`;
    const status = (await rpc(host, nfsPort, NFS3.prog, NFS3.vers, NFS3.REMOVE, args, what)).uint();
    if (status !== 0) throw new Nfs3StatusError(what, status, 'NFS3');
  } finally {
    // The server's list of mounts is informational; a failed UMNT changes nothing.
    await rpc(host, mountPort, MOUNT3.prog, MOUNT3.vers, MOUNT3.UMNT, dirArg, 'unmount').catch(
      () => undefined,
    );
  }
}
