/**
 * `ferry migrate --auto` between testbed hosts over a link shaped (tc tbf) below the guest's
 * dirty rate, where plain pre-copy never finishes (remote-network.test.ts shows it): --auto
 * escalates step by step, each step logged with why, and the guest arrives with one life and
 * no corrupted page.
 * @module
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestbedHost } from '../../src/testbed/index.js';
import {
  assertOneLife,
  jobField,
  keepsBeating,
  NON_CONVERGING,
  sampleWhile,
} from '../helpers/migration.js';
import { listOf, startGuestOn } from '../helpers/remote.js';
import { useTestbed } from '../helpers/testbed.js';

/** About 7.6 MiB/s: under NON_CONVERGING's 20 MiB/s over its 8 MiB working set. */
const SHAPED_RATE = '64mbit';

/** The `auto step N: …` lines of a --verbose migration's stderr, in order. */
function autoSteps(stderr: string): string[] {
  return [...stderr.matchAll(/^auto step \d+: (.*)$/gm)].map((m) => m[1] ?? '');
}

test(
  '--auto over a link shaped below the dirty rate: downtime, then auto-converge, then post-copy, in order',
  { timeout: 400_000 },
  async (t) => {
    const tb = await useTestbed(t, { hosts: 2 });
    const [h1, h2] = tb.hosts as [TestbedHost, TestbedHost];
    const serial = await startGuestOn(t, h1, { name: 'busy', ...NON_CONVERGING });
    await h1.shape(SHAPED_RATE);

    // Bounds low enough that neither the downtime nor the throttle can make it converge (the
    // guest paces its writes by the clock: a 50 % throttle hardly slows it), so all three
    // steps are taken.
    const job = h1.ferry(
      'migrate',
      '--auto',
      '--auto-max-downtime',
      '600',
      '--auto-max-throttle',
      '50',
      '--persistent',
      '--verbose',
      'busy',
      h2.tcpUri,
    );
    // The dormant auto-converge: QEMU's throttle stays at 1 % until step 2 wakes it.
    const samples = await sampleWhile(
      job,
      async () => {
        const info = (await h1.ferry('domjobinfo', 'busy')).stdout;
        return {
          steps: [...info.matchAll(/^Auto: +step/gm)].length,
          throttle: Number(jobField(info, 'Auto converge throttle') ?? '0'),
        };
      },
      1000,
    );
    const r = await job;
    t.diagnostic(`migrate --auto stderr:\n${r.stderr}`);
    assert.equal(r.code, 0, r.stderr);
    const steps = autoSteps(r.stderr);
    assert.equal(steps.length, 3, `three steps: ${steps.join(' | ')}`);
    assert.match(steps[0] ?? '', /^max downtime raised to 600 ms: each of the last 2 passes/);
    assert.match(steps[1] ?? '', /^auto-converge woken \(vCPU throttle up to 50 %\): .*600 ms/);
    assert.match(steps[2] ?? '', /^switched to post-copy: .*throttled by 50 %/);
    const dormant = samples.filter((s) => s.steps < 2);
    assert.ok(dormant.length > 0, 'sampled before step 2');
    assert.ok(
      dormant.every((s) => s.throttle <= 1),
      `throttle before step 2: ${dormant.map((s) => s.throttle).join(',')}`,
    );
    assert.ok(
      samples.some((s) => s.throttle > 1),
      'the throttle rose after step 2',
    );

    // The steps stay with the job, and in ferryd's log.
    const done = await h1.ferryOk('domjobinfo', 'busy', '--completed');
    assert.equal(jobField(done, 'Job type'), 'Completed');
    assert.equal([...done.matchAll(/^Auto: +step \d+: /gm)].length, 3);
    const log = h1.ferrydLog();
    const at = ['auto step 1:', 'auto step 2:', 'auto step 3:'].map((s) => log.indexOf(s));
    assert.ok(
      at.every((i, n) => i >= 0 && (n === 0 || i > (at[n - 1] ?? 0))),
      'logged in order',
    );

    assert.deepEqual(await listOf(h1), [['busy', 'shut off']]);
    assert.deepEqual(await listOf(h2), [['busy', 'running']]);
    await keepsBeating(serial);
    assertOneLife(serial);

    // And back over the same link with the default bounds: the first step is the downtime
    // (raised at once to what QEMU expects the last pass to take), which is enough here.
    await h2.shape(SHAPED_RATE);
    await h1.ferryOk('undefine', 'busy');
    const back = await h2.ferry(
      'migrate',
      '--auto',
      '--persistent',
      '--undefinesource',
      '--verbose',
      'busy',
      h1.tcpUri,
    );
    t.diagnostic(`back: ${autoSteps(back.stderr).join(' | ')}`);
    assert.equal(back.code, 0, back.stderr);
    assert.match(autoSteps(back.stderr)[0] ?? '', /^max downtime raised to \d+ ms: /);
    assert.deepEqual(await listOf(h1), [['busy', 'running']]);
    assert.deepEqual(await listOf(h2), []);
    await keepsBeating(serial);
    assertOneLife(serial);
  },
);
