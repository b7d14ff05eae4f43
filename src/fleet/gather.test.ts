import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FleetMember } from '../rpc/schema/fleet-plan.js';
import type { PreflightReport } from '../rpc/schema/preflight.js';
import { failingCheck, gatherPlannerInput, measuredLinkMiBs } from './gather.js';
import { compatKey, linkKey } from './planner/types.js';
import { guest, host } from './planner/synthetic-fleet.js';

function report(checks: PreflightReport['checks']): PreflightReport {
  return { domain: 'vm', destUri: 'u', verdict: 'pass', checks, elapsedMs: 1 };
}

void test('failingCheck() names the first failing check; measuredLinkMiBs() reads the bandwidth line', () => {
  const r = report([
    { check: 'state', verdict: 'pass', reason: 'running' },
    { check: 'cpu', verdict: 'fail', reason: 'lacks avx' },
    { check: 'devices', verdict: 'fail', reason: 'hostdev' },
    { check: 'bandwidth', verdict: 'pass', reason: '1.5 GiB/s measured over 1.0 s' },
  ]);
  assert.equal(failingCheck(r), 'cpu: lacks avx');
  assert.equal(measuredLinkMiBs(r), 1536);
  assert.equal(failingCheck(report([])), null);
  assert.equal(
    measuredLinkMiBs(report([{ check: 'bandwidth', verdict: 'skip', reason: 'not measured' }])),
    undefined,
  );
});

void test('gatherPlannerInput(): one link measurement per pair, preflight answers, dirty rates', async () => {
  const a = guest('a', 128);
  const b = guest('b', 128);
  const off = guest('off', 128, { state: 'shut off' });
  const m = (name: string, guests = [a, b, off].filter(() => name === 'h1')): FleetMember => ({
    id: name,
    uri: `qemu+tcp://${name}/system`,
    capacity: host(name, 1024, guests),
  });
  const [h1, h2, h3] = [m('h1'), m('h2'), m('h3')];
  const calls: { method: string; host: string; params: Record<string, unknown> }[] = [];
  const input = await gatherPlannerInput(
    [h1, h2, h3],
    [a, b, off].flatMap((g) => [h2, h3].map((to) => ({ guest: g, from: h1, to }))),
    (member, method, params) => {
      const p = params as Record<string, unknown>;
      calls.push({ method, host: member.id, params: p });
      if (method === 'migration.preflight') {
        if (p['domain'] === b.uuid && p['destUri'] === h3.uri)
          return Promise.reject(new Error('connection reset'));
        const measured = (p['measure'] as { bandwidth: boolean }).bandwidth;
        return Promise.resolve(
          report([
            {
              check: 'devices',
              verdict: p['domain'] === off.uuid ? 'fail' : 'pass',
              reason: 'hostdev',
            },
            measured
              ? { check: 'bandwidth', verdict: 'pass', reason: '200 MiB/s measured over 1.0 s' }
              : { check: 'bandwidth', verdict: 'skip', reason: 'not measured' },
          ]),
        );
      }
      if (method === 'domain.dirtyRateCalc') return Promise.resolve({ name: 'x' });
      return Promise.resolve({
        records: (p['domains'] as string[]).map((uuid) => ({
          name: uuid,
          active: true,
          dirtyrate: { calcStatus: 2, megabytesPerSecond: uuid === a.uuid ? 3 : 7 },
        })),
      });
    },
  );
  const preflights = calls.filter((c) => c.method === 'migration.preflight');
  assert.equal(preflights.length, 6);
  const measuring = preflights.filter(
    (c) => (c.params['measure'] as { bandwidth: boolean }).bandwidth,
  );
  assert.deepEqual(
    measuring.map((c) => c.params['destUri']).sort(),
    [h2.uri, h3.uri],
    'one link measurement per (source, target) pair',
  );
  assert.deepEqual(preflights.find((c) => c.params['domain'] === off.uuid)?.params['flags'], {
    offline: true,
    persistent: true,
    undefineSource: true,
  });
  assert.deepEqual(preflights.find((c) => c.params['domain'] === a.uuid)?.params['flags'], {
    live: true,
    auto: true,
    persistent: true,
    undefineSource: true,
  });
  assert.equal(input.compat.get(compatKey(a.uuid, 'h2')), null);
  assert.equal(input.compat.get(compatKey(off.uuid, 'h3')), 'devices: hostdev');
  assert.equal(input.compat.get(compatKey(b.uuid, 'h3')), 'preflight: connection reset');
  assert.equal(input.links.get(linkKey('h1', 'h2')), 200);
  assert.deepEqual([...input.dirty].sort(), [
    [a.uuid, 3],
    [b.uuid, 7],
  ]);
  assert.equal(
    calls.filter((c) => c.method === 'domain.dirtyRateCalc').length,
    2,
    'running guests only, once each',
  );
});
