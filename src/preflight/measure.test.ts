import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DomainRecord } from '../host/index.js';
import type { MigrateFlags } from '../rpc/schema/migration.js';
import { dirtyRateLine } from './measure.js';

test('the dirty rate is never measured while a job (a migration) runs on the guest', async () => {
  const asked: string[] = [];
  const rec = {
    proc: {
      qmp: {
        execute: (cmd: string) => {
          asked.push(cmd);
          return Promise.reject(new Error('QEMU must not be asked'));
        },
      },
    },
    job: { operation: 'Outgoing migration' },
  } as unknown as DomainRecord;
  const { line, bytesPerSecond } = await dirtyRateLine(rec, { offline: false } as MigrateFlags, {
    bandwidth: true,
    dirtyRate: true,
  });
  assert.equal(line.verdict, 'skip');
  assert.match(line.reason, /while a job runs on the guest \(Outgoing migration\)/);
  assert.equal(bytesPerSecond, undefined);
  assert.deepEqual(asked, []);
});
