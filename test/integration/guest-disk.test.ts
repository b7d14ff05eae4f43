/**
 * The test guest's disk workload under a real ferryd: the writer and the continuous verifier
 * on a raw image, the verifier catching blocks the host puts back to stale or damaged
 * content while the guest runs, and the boot-time check after an ACPI shutdown passing on an
 * untouched disk and failing on a tampered one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { guestXml, waitForConsole, waitForHeartbeat } from '../helpers/guest.js';
import { assertOneLife } from '../helpers/migration.js';
import {
  parseDiskChecks,
  parseDiskSyncs,
  parseHeartbeats,
  type DiskCheck,
  type DiskSynced,
  type Heartbeat,
} from '../../guest/heartbeat.js';

const BLOCK = 4096;
const SUPER_MAGIC = 0x4645525259534231n; // "FERRYSB1", see guest/disk-workload.c

/** Where the disk workload's data blocks are in the image (from its superblock). */
interface DiskLayout {
  tableBlocks: number;
  dataBlocks: number;
}

function readBlock(image: string, offset: number): Buffer {
  const buf = Buffer.alloc(BLOCK);
  const fd = openSync(image, 'r');
  try {
    readSync(fd, buf, 0, BLOCK, offset);
  } finally {
    closeSync(fd);
  }
  return buf;
}

/** Written from the host while the guest may run: QEMU opens the image with cache=none, so
 * its next read of the block sees this write. */
function writeBlock(image: string, offset: number, buf: Buffer): void {
  const fd = openSync(image, 'r+');
  try {
    writeSync(fd, buf, 0, BLOCK, offset);
  } finally {
    closeSync(fd);
  }
}

function readLayout(image: string): DiskLayout {
  const sb = readBlock(image, 0);
  assert.equal(sb.readBigUInt64LE(0), SUPER_MAGIC, 'the guest formatted the disk');
  return {
    tableBlocks: Number(sb.readBigUInt64LE(24)),
    dataBlocks: Number(sb.readBigUInt64LE(32)),
  };
}

const dataOffset = (l: DiskLayout, i: number): number => (1 + l.tableBlocks + i) * BLOCK;
/** The write sequence number in a data block's header (magic, index, generation, sequence). */
const blockSeq = (b: Buffer): bigint => b.readBigUInt64LE(24);

const diskXml = (image: string): string => `
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='none'/>
      <source file='${image}'/>
      <target dev='vda' bus='virtio'/>
    </disk>`;

interface DiskGuest {
  serial: string;
  image: string;
  /** Defines (again) and starts the guest with these extra kernel command-line keys. */
  boot(extraCmdline: string): Promise<void>;
  /** ACPI shutdown; returns what the workload recorded on its way down. */
  shutdown(): Promise<DiskSynced>;
  /** Heartbeats of the current boot (the serial log is appended to across boots). */
  heartbeats(): Heartbeat[];
  /** Waits for this boot's disk check line. */
  check(): Promise<DiskCheck>;
}

function diskGuest(d: TestDaemon, name: string): DiskGuest {
  const serial = join(d.dir, `${name}-serial.log`);
  const image = join(d.dir, `${name}-disk.img`);
  execFileSync('qemu-img', ['create', '-q', '-f', 'raw', image, '64M']);
  const uuid = randomUUID(); // the same on every define: a redefinition, not a new domain
  let bootStart = 0; // offset of this boot's first byte in the serial log
  const text = (): string => {
    try {
      return readFileSync(serial, 'utf8');
    } catch {
      return '';
    }
  };
  const thisBoot = (): string => text().slice(bootStart);
  return {
    serial,
    image,
    async boot(extraCmdline) {
      bootStart = text().length;
      const xml = guestXml({
        name,
        uuid,
        serialLog: serial,
        hbMs: 500,
        extraCmdline: `ferry.disk=/dev/vda ${extraCmdline}`,
        extraDevices: diskXml(image),
      });
      await d.ferryOk('define', d.file(`${name}.xml`, xml));
      await d.ferryOk('start', name);
    },
    async shutdown() {
      await waitForConsole(serial, /FERRY-ACPI-READY/);
      assert.equal(
        await d.ferryOk('shutdown', name, '--wait', '90'),
        `Domain '${name}' is shut off\n\n`,
      );
      const synced = parseDiskSyncs(thisBoot());
      assert.equal(synced.length, 1, 'the workload recorded its writes before the power-off');
      return synced[0] as DiskSynced;
    },
    heartbeats: () => parseHeartbeats(thisBoot()),
    async check() {
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        const found = parseDiskChecks(thisBoot())[0];
        if (found !== undefined) return found;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no FERRY-DISK-CHECK in ${serial}:\n${thisBoot().slice(-600)}`);
    },
  };
}

/** Waits for a heartbeat of the current boot that satisfies pred. */
async function waitForDiskHeartbeat(
  g: DiskGuest,
  pred: (hb: Heartbeat) => boolean,
  timeoutMs = 120_000,
): Promise<Heartbeat> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const hit = g.heartbeats().find(pred);
    if (hit !== undefined) return hit;
    await new Promise((r) => setTimeout(r, 100));
  }
  // One more look, with the log tail in the error.
  return waitForHeartbeat(g.serial, { timeoutMs: 1, pred });
}

const clean = (hb: Heartbeat): boolean => hb.diskCorrupt === 0 && hb.diskLost === 0;

test('the disk writer and verifier run clean on a raw image, and the disk checks out after an ACPI shutdown', async (t) => {
  const d = await startDaemon(t);
  const g = diskGuest(d, 'disk1');

  // (a) 1 MiB/s on the whole 64 MiB image; the verifier sweeps the written blocks.
  await g.boot('ferry.disk_rate=1');
  const first = await waitForDiskHeartbeat(g, (hb) => (hb.diskSweeps ?? 0) >= 1);
  await waitForDiskHeartbeat(g, (hb) => (hb.diskSweeps ?? 0) >= (first.diskSweeps ?? 0) + 2);
  const boot1 = g.heartbeats();
  assert.ok(
    boot1.every((hb) => hb.diskWritten !== undefined && clean(hb)),
    'no bad block',
  );
  const last1 = boot1.at(-1);
  assert.ok(last1 !== undefined && (last1.diskWritten ?? 0) > 256, 'the writer wrote');
  assert.ok((last1.diskVerified ?? 0) > (last1.diskWritten ?? 0), 'the verifier re-read blocks');

  const synced1 = await g.shutdown();
  assert.ok(synced1.ok);
  assert.ok(synced1.seq >= (last1.diskWritten ?? 0));
  assert.equal(synced1.seq, synced1.written, 'the first boot numbers its writes from 1');

  // (c) Booted again with the check: every recorded write is there, and the writer goes on
  // from the recorded sequence.
  await g.boot('ferry.disk_rate=1 ferry.disk_check=1');
  const check2 = await g.check();
  assert.deepEqual(check2, {
    blocks: synced1.seq, // fewer writes than blocks: each block was written once
    bad: 0,
    lost: 0,
    ok: true,
    seq: synced1.seq,
    clean: true,
  });
  await waitForDiskHeartbeat(g, (hb) => (hb.diskSweeps ?? 0) >= 2 && (hb.diskWritten ?? 0) > 0);
  assert.ok(g.heartbeats().every(clean));
  const synced2 = await g.shutdown();
  assert.ok(synced2.ok);
  assert.equal(synced2.seq, synced1.seq + synced2.written, 'sequence numbers continue');

  // Tampered offline: one payload byte of a written block flipped. The check fails.
  const layout = readLayout(g.image);
  const victim = 5;
  const block = readBlock(g.image, dataOffset(layout, victim));
  assert.ok(blockSeq(block) > 0n, 'block 5 was written');
  block[BLOCK - 1] = (block[BLOCK - 1] ?? 0) ^ 0x5a;
  writeBlock(g.image, dataOffset(layout, victim), block);
  await g.boot('ferry.disk_rate=1 ferry.disk_check=1');
  const check3 = await g.check();
  assert.equal(check3.ok, false);
  assert.equal(check3.bad, 1);
  assert.equal(check3.lost, 0);
  await waitForConsole(g.serial, new RegExp(`FERRY-DISK-CORRUPT block=${victim} .*where=check`));
  await d.ferryOk('destroy', 'disk1');
});

test('the verifier catches a block the host puts back to stale or damaged content', async (t) => {
  const d = await startDaemon(t);
  const g = diskGuest(d, 'disk2');
  // A 4 MiB region of the 64 MiB image: the writer comes round again every 4 s or so, so a
  // block saved early is soon older than the last write acknowledged to it.
  await g.boot('ferry.disk_rate=1 ferry.disk_mb=4');
  await waitForDiskHeartbeat(g, (hb) => (hb.diskWritten ?? 0) >= 64);
  const layout = readLayout(g.image);
  const stale = 10;
  const staleBlock = readBlock(g.image, dataOffset(layout, stale));
  const staleSeq = blockSeq(staleBlock);
  assert.ok(staleSeq > 0n, 'block 10 was written');

  // Once the block was rewritten, and while the writer is well away from it, put the old
  // content back.
  const ahead = (hb: Heartbeat, i: number): number =>
    (i - ((hb.diskWritten ?? 0) % layout.dataBlocks) + layout.dataBlocks) % layout.dataBlocks;
  await waitForDiskHeartbeat(
    g,
    (hb) => (hb.diskWritten ?? 0) > layout.dataBlocks + stale + 32 && ahead(hb, stale) > 400,
  );
  assert.ok(blockSeq(readBlock(g.image, dataOffset(layout, stale))) > staleSeq, 'rewritten');
  assert.ok(g.heartbeats().every(clean), 'clean before the tampering');
  writeBlock(g.image, dataOffset(layout, stale), staleBlock);
  const lostAt = await waitForDiskHeartbeat(g, (hb) => (hb.diskLost ?? 0) > 0);
  assert.equal(lostAt.diskLost, 1);
  assert.equal(lostAt.diskCorrupt, 0);
  await waitForConsole(g.serial, new RegExp(`FERRY-DISK-LOST block=${stale} `));

  // A damaged block (one payload byte flipped) is corrupt.
  const now = g.heartbeats().at(-1);
  assert.ok(now !== undefined);
  const damaged = ((now.diskWritten ?? 0) + Math.floor(layout.dataBlocks / 2)) % layout.dataBlocks;
  const block = readBlock(g.image, dataOffset(layout, damaged));
  block[100] = (block[100] ?? 0) ^ 0x01;
  writeBlock(g.image, dataOffset(layout, damaged), block);
  const corruptAt = await waitForDiskHeartbeat(g, (hb) => (hb.diskCorrupt ?? 0) > 0);
  assert.equal(corruptAt.diskCorrupt, 1);
  await waitForConsole(g.serial, new RegExp(`FERRY-DISK-CORRUPT block=${damaged} `));
  // Counted once, then repaired: the next sweeps find nothing more.
  const sweeps = corruptAt.diskSweeps ?? 0;
  const later = await waitForDiskHeartbeat(g, (hb) => (hb.diskSweeps ?? 0) >= sweeps + 2);
  assert.equal(later.diskCorrupt, 1);
  assert.equal(later.diskLost, 1);

  // Offline: the stale block put back once more after a clean shutdown is a lost write.
  const synced = await g.shutdown();
  assert.ok(synced.ok);
  writeBlock(g.image, dataOffset(layout, stale), staleBlock);
  await g.boot('ferry.disk_rate=1 ferry.disk_mb=4 ferry.disk_check=1');
  const check = await g.check();
  assert.equal(check.ok, false);
  assert.equal(check.lost, 1);
  assert.equal(check.bad, 0);
  assert.equal(check.seq, synced.seq);
  await d.ferryOk('destroy', 'disk2');
});

test('a live migration between two local hosts sharing the image loses no disk write', async (t) => {
  const a = await startDaemon(t);
  const b = await startDaemon(t);
  const g = diskGuest(a, 'disk3');
  await g.boot('ferry.disk_rate=1');
  await waitForDiskHeartbeat(g, (hb) => (hb.diskSweeps ?? 0) >= 2);
  const r = await a.ferry('migrate', '--live', '--persistent', 'disk3', b.uri);
  assert.equal(r.code, 0, r.stderr);
  // The verifier's state came along in guest memory: two full sweeps after the switch-over
  // re-read every block written on either host.
  const after = g.heartbeats().at(-1)?.diskSweeps ?? 0;
  const later = await waitForDiskHeartbeat(g, (hb) => (hb.diskSweeps ?? 0) >= after + 2);
  assert.ok((later.diskWritten ?? 0) > 0);
  assert.ok(g.heartbeats().every(clean), 'no bad or lost block');
  assertOneLife(g.serial);
  await b.ferryOk('destroy', 'disk3');
});
