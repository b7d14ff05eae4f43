import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { qemuHostFacts, resolveMachine } from './probe.js';

const QEMU = process.env['FERRY_QEMU'] ?? '/usr/bin/qemu-system-x86_64';

test('qemuHostFacts asks a real QEMU and caches the answer per binary', async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'ferry-probe-test-'));
  t.after(() => rmSync(cache, { recursive: true, force: true }));
  const facts = await qemuHostFacts(QEMU, 'tcg', cache);
  assert.match(facts.version, /^\d+\.\d+\.\d+$/);
  const pc = resolveMachine(facts, 'pc');
  assert.ok(pc?.name.startsWith('pc-i440fx-'), `pc resolves to ${pc?.name}`);
  assert.ok(resolveMachine(facts, 'q35')?.name.startsWith('pc-q35-'));
  assert.equal(resolveMachine(facts, 'no-such-machine'), undefined);
  const qemu64 = facts.cpuDefinitions.find((d) => d.name === 'qemu64');
  assert.deepEqual(qemu64?.unavailableFeatures, [], 'qemu64 runs under TCG');
  assert.equal(typeof facts.maxCpu.props['vendor'], 'string');
  assert.equal(readdirSync(cache).length, 1);
  const again = await qemuHostFacts(QEMU, 'tcg', cache);
  assert.equal(again.probedAt, facts.probedAt, 'the second call is served from the cache');
});

test('qemuHostFacts says which binary it cannot find', async () => {
  await assert.rejects(
    qemuHostFacts('/nonexistent/qemu-system-x86_64', 'tcg', tmpdir()),
    /Cannot find QEMU binary '\/nonexistent\/qemu-system-x86_64'/,
  );
});

test('probes started at once share one QEMU and agree', async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'ferry-probe-test-'));
  t.after(() => rmSync(cache, { recursive: true, force: true }));
  const all = await Promise.all([1, 2, 3].map(() => qemuHostFacts(QEMU, 'tcg', cache)));
  assert.equal(new Set(all.map((f) => f.probedAt)).size, 1, 'one probe answered all three');
  assert.equal(readdirSync(cache).length, 1, 'one cache file, no temp file left');
});
