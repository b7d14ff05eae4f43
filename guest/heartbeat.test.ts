import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { parseHeartbeat, parseHeartbeats } from './heartbeat.js';

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

  it('omits the disk properties entirely without the disk workload', () => {
    const hb = parseHeartbeat('FERRY-HB seq=1 uptime=1.86 dirtied_mib=0.0 verified=0 corrupt=0');
    assert.ok(hb);
    assert.equal('diskWritten' in hb, false);
    assert.equal('diskCorrupt' in hb, false);
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
