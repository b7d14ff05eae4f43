/**
 * Migration policies for a guest that pre-copy alone cannot move (dirtying faster than the
 * capped stream): auto-converge throttles its vCPU until it does, and `--timeout` without
 * `--timeout-postcopy` suspends it so the rest converges. The guest's own heartbeat must go
 * on (same sequence, same boot, nothing corrupted) on the host it ends up on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon } from '../helpers/daemon.js';
import {
  assertOneLife,
  BANDWIDTH_CAP,
  EMPTY_LIST,
  jobField,
  keepsBeating,
  NON_CONVERGING,
  sampleWhile,
  startGuest,
  twoHosts,
  waitForJob,
} from '../helpers/migration.js';

/**
 * QEMU's auto-converge acts at every second dirty-bitmap sync (one per pass) that found more
 * dirtied than half of what was sent meanwhile: it throttles the vCPU by cpu-throttle-initial
 * (default 20 %) the first time, then cpu-throttle-increment (default 10 %) more, up to 99 %.
 * The test guest paces its writes by the clock and needs under 10 % of a vCPU for 20 MiB/s, so
 * only the last step slows it: at 99 % it gets 10 ms of CPU a second and makes up at most
 * 100 ms of lost time, about 2 MiB/s, under the 8 MiB/s stream. QEMU's defaults get there
 * after nine steps (about 50 s here, twice that on a busy machine); `--auto-converge-initial
 * 80 --auto-converge-increment 19` after two, which also shows both flags reach QEMU.
 */
test(
  'auto-converge: a migration that never converges at a capped bandwidth does with --auto-converge',
  { timeout: 300_000 },
  async (t) => {
    // The destination watches the guest for 5 s after the switch-over, not 1 s: a guest that
    // QEMU corrupted while throttled once stopped beating after a 1 s watch had passed it.
    const [a, b] = [
      await startDaemon(t),
      await startDaemon(t, { configText: 'migration_watch_ms = 5000\n' }),
    ];
    const serial = await startGuest(a, { name: 'ac', ...NON_CONVERGING });

    // Without auto-converge: every pass ends with the whole working set dirty again, so
    // QEMU never gets to stop the guest for the last one. 25 passes, each a chance missed.
    const plain = a.ferry(
      'migrate',
      '--live',
      '--persistent',
      '--bandwidth',
      BANDWIDTH_CAP,
      'ac',
      b.uri,
    );
    await waitForJob(a, 'ac', (info) => /^Job type: +Unbounded/m.test(info));
    const stuck = await waitForJob(
      a,
      'ac',
      (info) => !/^Job type: +Unbounded/m.test(info) || Number(jobField(info, 'Iteration')) >= 25,
      { timeoutMs: 150_000, everyMs: 1000 },
    );
    assert.match(stuck, /^Job type: +Unbounded/m, 'still migrating after 25 passes');
    assert.equal(jobField(stuck, 'Auto converge throttle'), undefined, 'no throttle without it');
    const elapsed = parseInt(jobField(stuck, 'Time elapsed') ?? '', 10);
    t.diagnostic(
      `without --auto-converge: ${jobField(stuck, 'Iteration')} passes in ${elapsed} ms`,
    );
    await a.ferryOk('domjobabort', 'ac');
    const aborted = await plain;
    assert.equal(aborted.code, 1);
    assert.match(aborted.stderr, /operation aborted/);
    assert.match(await a.ferryOk('domstate', 'ac'), /^running/);
    assert.equal(await b.ferryOk('list', '--all'), EMPTY_LIST);

    // The chapter's command, with the same cap: QEMU throttles the guest until it converges.
    const started = Date.now();
    const job = a.ferry(
      'migrate',
      '--live',
      '--persistent',
      '--auto-converge',
      '--auto-converge-initial',
      '80',
      '--auto-converge-increment',
      '19',
      '--bandwidth',
      BANDWIDTH_CAP,
      'ac',
      b.uri,
    );
    let lastInfo = '';
    let downtimeRaised = false;
    const throttles = await sampleWhile(
      job,
      async () => {
        const info = (await a.ferry('domjobinfo', 'ac')).stdout;
        if (info.includes('Unbounded')) lastInfo = info;
        // On a loaded machine the guest still dirties ≈ 2 MiB/s at 99 %, and the last pass can
        // stay just over the default 300 ms downtime at 8 MiB/s. The chapter's next knob then
        // finishes the job; the throttle steps below are checked all the same.
        if (
          !downtimeRaised &&
          Number(jobField(info, 'Auto converge throttle') ?? 0) === 99 &&
          Date.now() - started > 90_000
        ) {
          downtimeRaised = true;
          t.diagnostic(`not converged at 99 % after 90 s; migrate-setmaxdowntime 1000:\n${info}`);
          await a.ferry('migrate-setmaxdowntime', 'ac', '1000');
        }
        if (Date.now() - started > 200_000) {
          // Say where a job that never ends got stuck, rather than only timing out.
          t.diagnostic(`still running after 200 s:\n${lastInfo}`);
          await a.ferry('domjobabort', 'ac');
        }
        return Number(jobField(info, 'Auto converge throttle') ?? 0);
      },
      1000,
    );
    const r = await job;
    // QEMU 7.2 under TCG sometimes corrupts a guest it migrates while throttled: its kernel
    // oopses right after the switch-over (seen here about 1 run in 5 on a loaded machine).
    // Ferry must then say so (the watch after the switch-over), never report a success.
    const guestFailed = /completed, but the guest failed on the destination/.test(r.stderr);
    if (guestFailed) t.diagnostic(`QEMU corrupted the guest and Ferry reported it: ${r.stderr}`);
    else assert.equal(r.code, 0, r.stderr);
    const seen = [...new Set(throttles.filter((p) => p > 0))];
    t.diagnostic(
      `with --auto-converge: completed in ${Date.now() - started} ms; throttle seen: ${seen.join(', ')} %`,
    );
    // 80 % first, then 19 % more every other pass, capped at QEMU's max-cpu-throttle (99 %).
    assert.ok(seen.length > 0, 'domjobinfo showed the vCPU throttled during the job');
    assert.ok(
      seen.every((p) => [80, 99].includes(p)),
      `throttle steps of --auto-converge-initial 80 --auto-converge-increment 19: ${seen.join(', ')}`,
    );
    assert.equal(await a.ferryOk('domstate', 'ac', '--reason'), 'shut off (migrated)\n\n');
    assert.match(await a.ferryOk('domjobinfo', 'ac', '--completed'), /^Job type: +Completed/m);
    if (guestFailed) {
      assert.match(r.stderr, /panic|oops|no progress|QEMU/i, 'the error carries the evidence');
      // Kept on the destination for inspection: crashed, or running when its vCPUs stopped.
      assert.match(await b.ferryOk('domstate', 'ac'), /^(crashed|running)$/m);
    } else {
      assert.equal(await b.ferryOk('domstate', 'ac', '--reason'), 'running (migrated)\n\n');
      await keepsBeating(serial);
      assertOneLife(serial);
    }
    await b.ferryOk('destroy', 'ac');
  },
);

test(
  '--timeout without --timeout-postcopy suspends the guest for the tail; it runs on the destination afterwards',
  { timeout: 300_000 },
  async (t) => {
    const [a, b] = await twoHosts(t);
    const serial = await startGuest(a, { name: 'to', ...NON_CONVERGING });

    // Out with libvirt's default timeout action, back with it named (--timeout-suspend).
    const hops = [
      { from: a, to: b, flags: [] },
      { from: b, to: a, flags: ['--timeout-suspend'] },
    ];
    for (const { from, to, flags } of hops) {
      const started = Date.now();
      const job = from.ferry(
        'migrate',
        '--live',
        '--persistent',
        '--timeout',
        '5',
        ...flags,
        '--bandwidth',
        BANDWIDTH_CAP,
        'to',
        to.uri,
      );
      const states = await sampleWhile(job, async () => {
        const at = Date.now() - started;
        return { at, state: (await from.ferry('domstate', 'to', '--reason')).stdout.trim() };
      });
      const r = await job;
      const took = Date.now() - started;
      assert.equal(r.code, 0, `${flags.join(' ')}: ${r.stderr}`);
      t.diagnostic(`--timeout 5 ${flags.join(' ')}: completed in ${took} ms`);
      assert.ok(took >= 5000, 'it took the timeout to complete');
      // Still running well into the job, then paused (migrating) for the rest of it.
      assert.ok(
        states.some((s) => s.at >= 3000 && /^running/.test(s.state)),
        `running until the timeout: ${JSON.stringify(states)}`,
      );
      assert.ok(
        states.some((s) => s.state === 'paused (migrating)'),
        `suspended for the tail: ${JSON.stringify(states)}`,
      );
      assert.equal(await to.ferryOk('domstate', 'to', '--reason'), 'running (migrated)\n\n');
      assert.equal(await from.ferryOk('domstate', 'to', '--reason'), 'shut off (migrated)\n\n');
      await keepsBeating(serial);
      assertOneLife(serial);
    }
    await a.ferryOk('destroy', 'to');
  },
);
