import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  parseDiskCheck,
  parseDiskChecks,
  parseDiskSynced,
  parseDiskSyncs,
  parseHeartbeat,
  parseHeartbeats,
} from './heartbeat.js';

describe('parseHeartbeat', () => {
  it('parses a memory-only heartbeat', () => {
    assert.deepEqual(
      parseHeartbeat('FERRY-HB seq=12 uptime=7.36 dirtied_mib=115.0 verified=54828 corrupt=0'),
      { seq: 12, uptime: 7.36, dirtiedMib: 115, verified: 54828, corrupt: 0 },
    );
  });

  it('parses the disk fields when present', () => {
    const hb = parseHeartbeat(
      'FERRY-HB seq=3 uptime=4.76 dirtied_mib=16.0 verified=3700 corrupt=2 disk_written=956 disk_corrupt=1',
    );
    assert.deepEqual(hb, {
      seq: 3,
      uptime: 4.76,
      dirtiedMib: 16,
      verified: 3700,
      corrupt: 2,
      diskWritten: 956,
      diskCorrupt: 1,
    });
  });

  it('parses the disk verifier fields appended after them', () => {
    const hb = parseHeartbeat(
      'FERRY-HB seq=44 uptime=24.10 dirtied_mib=0.0 verified=0 corrupt=0 disk_written=5500 disk_corrupt=0 disk_verified=34943 disk_sweeps=8 disk_lost=2',
    );
    assert.deepEqual(hb, {
      seq: 44,
      uptime: 24.1,
      dirtiedMib: 0,
      verified: 0,
      corrupt: 0,
      diskWritten: 5500,
      diskCorrupt: 0,
      diskVerified: 34943,
      diskSweeps: 8,
      diskLost: 2,
    });
  });

  it('rejects a heartbeat cut inside the disk verifier fields', () => {
    assert.equal(
      parseHeartbeat(
        'FERRY-HB seq=4 uptime=2.1 dirtied_mib=0.0 verified=0 corrupt=0 disk_written=5 disk_corrupt=0 disk_verified=9 disk_sw',
      ),
      undefined,
    );
  });

  it('omits the disk properties entirely without the disk workload', () => {
    const hb = parseHeartbeat('FERRY-HB seq=1 uptime=1.86 dirtied_mib=0.0 verified=0 corrupt=0');
    assert.ok(hb);
    assert.equal('diskWritten' in hb, false);
    assert.equal('diskCorrupt' in hb, false);
    assert.equal('diskLost' in hb, false);
  });

  it('accepts CR line endings and noise before the marker', () => {
    assert.equal(
      parseHeartbeat(
        '\x1b[0mFERRY-HB seq=5 uptime=3.86 dirtied_mib=80.0 verified=17197 corrupt=0\r',
      )?.seq,
      5,
    );
  });

  it('rejects other and truncated lines', () => {
    assert.equal(parseHeartbeat('FERRY-GUEST-BOOTED uptime=1.81'), undefined);
    assert.equal(parseHeartbeat('FERRY-CORRUPT page=3550 gen=1 found=1'), undefined);
    assert.equal(parseHeartbeat('FERRY-HB seq=5 uptime=3.86 dirtied_mib=80.0 verif'), undefined);
    assert.equal(
      parseHeartbeat(
        'FERRY-HB seq=5 uptime=3.86 dirtied_mib=80.0 verified=1 corrupt=0 disk_written=4',
      ),
      undefined,
    );
    assert.equal(parseHeartbeat(''), undefined);
  });
});

describe('parseHeartbeats', () => {
  it('extracts heartbeats in order from a serial log', () => {
    const log = [
      'FERRY-GUEST-BOOTED uptime=1.81',
      'FERRY-WORKLOAD start hb_ms=500 dirty_mb=64 dirty_rate=10.0 verify_s=2.0 disk=-',
      'FERRY-HB seq=1 uptime=1.86 dirtied_mib=0.0 verified=0 corrupt=0',
      'FERRY-MEM filled=16384 pages uptime=2.25',
      'FERRY-HB seq=2 uptime=2.36 dirtied_mib=65.0 verified=1067 corrupt=0',
      '[   17.24] some kernel message',
      'FERRY-HB seq=3 uptime=2.86 dirtied_mib=70.0 verified=6469 corrupt=0',
      '',
    ].join('\r\n');
    const hbs = parseHeartbeats(log);
    assert.deepEqual(
      hbs.map((h) => h.seq),
      [1, 2, 3],
    );
    assert.equal(hbs[2]?.dirtiedMib, 70);
  });

  it('ignores a last line that is still being written', () => {
    const log =
      'FERRY-HB seq=1 uptime=1.86 dirtied_mib=0.0 verified=0 corrupt=0\n' +
      'FERRY-HB seq=2 uptime=2.36 dirtied_mib=65.0 verified=1067 corrupt=1';
    assert.deepEqual(
      parseHeartbeats(log).map((h) => h.seq),
      [1],
    );
    assert.equal(parseHeartbeats(`${log}0\n`)[1]?.corrupt, 10);
  });

  it('returns an empty list when there is none', () => {
    assert.deepEqual(parseHeartbeats('nothing here\n'), []);
  });
});

describe('parseDiskCheck', () => {
  it('parses a passing and a failing check', () => {
    assert.deepEqual(
      parseDiskCheck('FERRY-DISK-CHECK blocks=6215 bad=0 lost=0 ok=1 seq=6215 clean=1'),
      {
        blocks: 6215,
        bad: 0,
        lost: 0,
        ok: true,
        seq: 6215,
        clean: true,
      },
    );
    assert.deepEqual(
      parseDiskCheck('FERRY-DISK-CHECK blocks=12 bad=1 lost=2 ok=0 seq=90 clean=0\r'),
      {
        blocks: 12,
        bad: 1,
        lost: 2,
        ok: false,
        seq: 90,
        clean: false,
      },
    );
  });

  it('rejects other and truncated lines', () => {
    assert.equal(parseDiskCheck('FERRY-DISK-CHECK blocks=12 bad=1 lost=2 ok=0'), undefined);
    assert.equal(parseDiskCheck('FERRY-DISK-CORRUPT block=3 seq=4'), undefined);
    assert.equal(
      parseDiskCheck('FERRY-HB seq=1 uptime=1.86 dirtied_mib=0.0 verified=0 corrupt=0'),
      undefined,
    );
  });

  it('finds the check of every boot in a serial log', () => {
    const log = [
      'FERRY-DISK-CHECK blocks=10 bad=0 lost=0 ok=1 seq=10 clean=1',
      'FERRY-HB seq=1 uptime=1.86 dirtied_mib=0.0 verified=0 corrupt=0',
      'FERRY-DISK-CHECK blocks=20 bad=1 lost=0 ok=0 seq=30 clean=1',
      'FERRY-DISK-CHECK blocks=2',
    ].join('\n');
    assert.deepEqual(
      parseDiskChecks(log).map((c) => c.ok),
      [true, false],
    );
  });
});

describe('parseDiskSynced', () => {
  it('parses the shutdown record', () => {
    assert.deepEqual(parseDiskSynced('FERRY-DISK-SYNCED seq=6215 written=6215 ok=1'), {
      seq: 6215,
      written: 6215,
      ok: true,
    });
    assert.equal(parseDiskSynced('FERRY-DISK-SYNCED seq=6215'), undefined);
    assert.deepEqual(
      parseDiskSyncs('FERRY-DISK-SYNCED seq=5 written=5 ok=0\nFERRY-GUEST-POWEROFF\n'),
      [{ seq: 5, written: 5, ok: false }],
    );
  });
});
