/**
 * Sees the guest run, independently of whoever migrates it: the guest's serial port is a unix
 * socket chardev in client mode (`server=off`) connecting to a listener here, so each QEMU
 * process that runs the guest opens its own connection — the source at its start, the
 * destination when it is launched for the incoming stream. The first byte on the destination's
 * connection is the guest running there: the test guest prints a heartbeat every `hb_ms` of
 * its own time (10 ms here), and its clock stands still while it is paused, so the first line
 * comes at most 10 ms after its vCPU runs again. Times are `performance.now()` of this process.
 */
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';

export interface TapConnection {
  acceptedAt: number;
  firstDataAt: number | undefined;
  lastDataAt: number | undefined;
  bytes: number;
  text: string;
}

export class SerialTap {
  readonly path: string;
  readonly connections: TapConnection[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #waiters: (() => void)[] = [];

  private constructor(path: string, server: Server) {
    this.path = path;
    this.#server = server;
  }

  static async listen(path: string): Promise<SerialTap> {
    rmSync(path, { force: true });
    const server = createServer();
    const tap = new SerialTap(path, server);
    server.on('connection', (socket) => tap.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    return tap;
  }

  #accept(socket: Socket): void {
    const conn: TapConnection = {
      acceptedAt: performance.now(),
      firstDataAt: undefined,
      lastDataAt: undefined,
      bytes: 0,
      text: '',
    };
    this.connections.push(conn);
    this.#sockets.add(socket);
    socket.on('data', (chunk: Buffer) => {
      conn.lastDataAt = performance.now();
      conn.firstDataAt ??= conn.lastDataAt;
      conn.bytes += chunk.length;
      // Only the tail matters (the last heartbeats): keep memory flat on long runs.
      conn.text = (conn.text + chunk.toString('latin1')).slice(-4096);
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.#sockets.delete(socket));
  }

  /** Resolves when connection `index` has sent something matching `re` (or any data). */
  async waitFor(index: number, re: RegExp | undefined, timeoutMs: number): Promise<TapConnection> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const conn = this.connections[index];
      if (conn?.firstDataAt !== undefined && (re === undefined || re.test(conn.text))) return conn;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`serial tap ${this.path}: nothing from connection ${index}`);
      // Woken by the next chunk; the timer only bounds the wait.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * The guest-visible pause: from the last heartbeat the source QEMU passed on to the first
   * the destination did (call once the destination has spoken). Like QEMU's downtime plus
   * whatever the driver adds between the source's completion and the destination's resume,
   * plus up to one heartbeat period and the destination's first, cold, TCG translations.
   */
  heartbeatGapMs(): number {
    const [src, dst] = this.connections;
    return (dst?.firstDataAt ?? NaN) - (src?.lastDataAt ?? NaN);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }
}
