/**
 * Lifecycle events pushed to subscribed RPC clients, and `ferry edit` through $EDITOR.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { connectRpc } from '../../src/rpc/index.js';
import { METHODS } from '../../src/rpc/methods.js';
import { DomainEvent } from '../../src/rpc/schema/domain.js';
import { run, startDaemon } from '../helpers/daemon.js';
import { guestXml, REPO } from '../helpers/guest.js';

test('subscribed clients receive lifecycle events as they happen', async (t) => {
  const d = await startDaemon(t);
  const client = await connectRpc(d.socket, METHODS);
  t.after(() => client.close());
  const events: DomainEvent[] = [];
  client.onNotification('domain.event', (ev) => events.push(ev), DomainEvent);
  assert.deepEqual(await client.call('events.subscribe', {}), { subscribed: true });

  const xml = guestXml({ name: 'ev', serialLog: join(d.dir, 'ev.log') });
  await client.call('domain.define', { xml });
  await client.call('domain.start', { domain: 'ev', paused: true });
  await client.call('domain.resume', { domain: 'ev' });
  await client.call('domain.suspend', { domain: 'ev' });
  await client.call('domain.destroy', { domain: 'ev' });
  await client.call('domain.undefine', { domain: 'ev' });
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(
    events.map((e) => `${e.event}/${e.detail}/${e.state}`),
    [
      'defined/Added/shut off',
      'started/Booted/paused',
      'suspended/Paused/paused',
      'resumed/Unpaused/running',
      'suspended/Paused/paused',
      'stopped/Destroyed/shut off',
      'undefined/Removed/shut off',
    ],
  );
  assert.ok(events.every((e) => e.name === 'ev'));
});

test('ferry edit saves a valid edit and refuses an invalid one without changing anything', async (t) => {
  const d = await startDaemon(t);
  await d.ferryOk(
    'define',
    d.file('ed.xml', guestXml({ name: 'ed', serialLog: join(d.dir, 'ed.log') })),
  );
  // A scripted editor: sed edits the file in place, as a person would in vi.
  const editor = (script: string): string => {
    const path = d.file(`editor-${script.length}.sh`, `#!/bin/sh\nsed -i '${script}' "$1"\n`);
    chmodSync(path, 0o755);
    return path;
  };
  const ferry = join(REPO, 'bin', 'ferry.js');
  const env = (ed: string): NodeJS.ProcessEnv => ({ ...process.env, EDITOR: ed, VISUAL: ed });

  const good = await run(
    process.execPath,
    [ferry, '-c', d.uri, 'edit', 'ed'],
    env(editor('s/<vcpu placement=.static.>1</<vcpu>2</')),
  );
  assert.equal(good.code, 0, good.stderr);
  assert.equal(good.stdout, "Domain 'ed' XML configuration edited.\n\n");
  assert.match(await d.ferryOk('dominfo', 'ed'), /^CPU\(s\): {9}2$/m);

  const before = await d.ferryOk('dumpxml', 'ed');
  const bad = await run(
    process.execPath,
    [ferry, '-c', d.uri, 'edit', 'ed'],
    env(editor('s/<\\/name>/<\\/nam>/')),
    'n\n',
  );
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: XML error: .*line \d+/m);
  assert.match(bad.stderr, /Failed\. Try again\? \[y,n,\?\]:/);
  assert.match(bad.stderr, /error: Changes not applied/);
  assert.equal(await d.ferryOk('dumpxml', 'ed'), before, 'definition unchanged');

  const same = await run(process.execPath, [ferry, '-c', d.uri, 'edit', 'ed'], env('true'));
  assert.equal(same.stdout, "Domain 'ed' XML configuration not changed.\n\n");
});
