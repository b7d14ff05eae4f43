import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guestRamMapping, parseSmaps, residentGuestBytes } from './resident.js';

const MiB = 1024 * 1024;
// Trimmed from /proc/PID/smaps of `qemu-system-x86_64 -machine pc,accel=tcg -m 192` (7.2).
const SAMPLE = `55d0c3a00000-55d0c3e9b000 r--p 00000000 08:01 1311283                    /usr/bin/qemu-system-x86_64
Size:               4716 kB
KernelPageSize:        4 kB
MMUPageSize:           4 kB
Rss:                4412 kB
Pss:                4412 kB
55d0c5e1c000-55d0c6a9e000 rw-p 00000000 00:00 0                          [heap]
Size:              12808 kB
Rss:               12612 kB
7f4e2fe00000-7f4e3be00000 rw-p 00000000 00:00 0 
Size:             196608 kB
KernelPageSize:        4 kB
MMUPageSize:           4 kB
Rss:               71680 kB
Pss:               71680 kB
AnonHugePages:     61440 kB
VmFlags: rd wr mr mw me ac sd hg 
7f4e44000000-7f4e83fff000 rwxp 00000000 00:00 0 
Size:            1048572 kB
Rss:               20480 kB
`;

describe('resident guest memory', () => {
  it('parses each mapping with its size and Rss', () => {
    const [binary, heap, ram, code] = parseSmaps(SAMPLE);
    assert.equal(binary?.name, '/usr/bin/qemu-system-x86_64');
    assert.equal(heap?.name, '[heap]');
    assert.deepEqual(ram, {
      start: 0x7f4e2fe00000n,
      perms: 'rw-p',
      name: '',
      sizeBytes: 192 * MiB,
      rssBytes: 70 * MiB,
    });
    assert.equal(code?.perms, 'rwxp');
  });

  it('picks the anonymous mapping the size of guest RAM (not the TCG code buffer)', () => {
    assert.equal(guestRamMapping(SAMPLE, 192 * MiB)?.rssBytes, 70 * MiB);
    assert.equal(guestRamMapping(SAMPLE, 256 * MiB), undefined);
  });

  it('a QEMU that is gone is a SYSTEM_ERROR naming its pid', () => {
    assert.throws(() => residentGuestBytes(2 ** 22 + 12345, 192 * MiB), {
      code: 'SYSTEM_ERROR',
      message: /QEMU process 4206649/,
    });
  });

  it('a process without a guest-RAM mapping counts all of it as touched', () => {
    assert.equal(residentGuestBytes(process.pid, 3 * 1024 * MiB + 4096), 3 * 1024 * MiB + 4096);
  });
});
