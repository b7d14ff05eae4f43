/**
 * The web console in a real browser across two testbed hosts: h1 serves the console (Chromium
 * runs in h1's namespace), h2 is added by its qemu+tcp URI. Guests on both hosts are listed;
 * a failing preflight disables Migrate; a migration is cancelled mid-way and the guest runs on;
 * one guest migrates Temporary and one Permanent through the dialog while the progress chart
 * grows, and each is then checked where it matters: the guest's own heartbeat (one life, no
 * corrupted page) and the CLI on both hosts. Two guest boots, three migrations.
 * @module
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestbedHost } from '../../src/testbed/index.js';
import { guestXml } from '../helpers/guest.js';
import { assertOneLife, jobField, keepsBeating, waitUntil } from '../helpers/migration.js';
import { listOf, startGuestOn } from '../helpers/remote.js';
import { newContext, PHONE, scrollsSideways, shot, signIn, type Page } from './browser.js';
import {
  chartPoints,
  confirmMigrate,
  fillMigrateDialog,
  guestRow,
  guestState,
  hostSection,
  openGuest,
  openHosts,
  progressSection,
  resultSection,
  verdict,
  waitForChartPoints,
  waitForGuestRow,
  waitForText,
} from './console-pages.js';
import { ACCOUNT, ROOT_ONLY, useConsoleTestbed } from './console-testbed.js';

/** Guests that survive pre-copy under TCG (≤ 20 MiB/s of dirtying) and beat often. */
const GUEST = { hbMs: 200, dirtyMiB: 4, dirtyRate: 4 } as const;
/** Their memory as the console shows it (the test guest has 128 MiB plus its working set). */
const GUEST_MEMORY = '132 MiB';

/** `ferry dominfo`'s Persistent line on `host`. */
async function persistentOn(host: TestbedHost, name: string): Promise<string | undefined> {
  return /^Persistent:\s+(\S+)/m.exec(await host.ferryOk('dominfo', name))?.[1];
}

/** Defines (does not start) a q35 guest on `host`: a machine type h2 here does not allow. */
function defineQ35(host: TestbedHost, name: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `ferry-${name}-`));
  const xml = join(dir, `${name}.xml`);
  writeFileSync(
    xml,
    guestXml({ name, serialLog: join(dir, 'serial.log') }).replace("machine='pc'", "machine='q35'"),
  );
  return host.ferryOk('define', xml).finally(() => rmSync(dir, { recursive: true, force: true }));
}

void test(
  'console: hosts, preflight, cancel, Temporary and Permanent migration',
  { ...ROOT_ONLY, timeout: 420_000 },
  async (t) => {
    const { browser, base, hosts } = await useConsoleTestbed(t, {
      hosts: 2,
      // Only i440fx guests (the test guest's 'pc') may run on h2: a q35 guest's preflight fails.
      extraConfig: (h) => (h === 'h2' ? 'machine_types = ["pc-i440fx-*"]\n' : ''),
    });
    const [h1, h2] = hosts as [TestbedHost, TestbedHost];
    const [serialA, serialB] = await Promise.all([
      startGuestOn(t, h1, { name: 'vm-a', ...GUEST }),
      startGuestOn(t, h1, { name: 'vm-b', ...GUEST }),
      defineQ35(h1, 'vm-q35'),
      startGuestOn(t, h2, { name: 'parked' }, false),
    ]);
    const ctx = await newContext(browser);
    t.after(() => ctx.close());
    const page: Page = await ctx.newPage();
    await signIn(page, base, ACCOUNT.user, ACCOUNT.password);

    await t.test('lists the guests of h1 and of h2 added by URI', async () => {
      await openHosts(page, base);
      const local = hostSection(page, 'h1');
      await local.getByText('qemu:///system').waitFor();
      await local.getByText('reachable', { exact: true }).waitFor();
      assert.deepEqual(await waitForGuestRow(page, 'h1', 'vm-a', 'running'), [
        'vm-a',
        'running',
        '1',
        GUEST_MEMORY,
      ]);
      assert.deepEqual(await guestRow(page, 'h1', 'vm-q35'), [
        'vm-q35',
        'shut off',
        '1',
        '128 MiB',
      ]);

      // A URI that is not one: the error in place, nothing added.
      await page.getByLabel('Host URI').fill('not a uri');
      await page.getByRole('button', { name: 'Add host' }).click();
      await waitForText(page.getByRole('alert'), /Invalid connection URI/);
      await page.getByLabel('Host URI').fill(h2.tcpUri);
      await page.getByRole('button', { name: 'Add host' }).click();
      const remote = hostSection(page, 'h2');
      await remote.getByText(h2.tcpUri).waitFor();
      await remote.getByText('reachable', { exact: true }).waitFor();
      assert.deepEqual(await waitForGuestRow(page, 'h2', 'parked', 'shut off'), [
        'parked',
        'shut off',
        '1',
        '128 MiB',
      ]);
      await remote.getByRole('button', { name: 'Remove host h2' }).waitFor();
      await shot(page, 'migrate-01-hosts');

      // The same page on a phone: both hosts, no sideways scrolling of the page.
      const phone = await newContext(browser, PHONE);
      t.after(() => phone.close());
      const small = await phone.newPage();
      await signIn(small, base, ACCOUNT.user, ACCOUNT.password);
      await openHosts(small, base);
      await waitForGuestRow(small, 'h2', 'parked', 'shut off');
      await waitForGuestRow(small, 'h1', 'vm-a', 'running');
      assert.equal(
        await scrollsSideways(small),
        false,
        'the hosts page scrolls sideways at 390 px',
      );
      await shot(small, 'migrate-02-hosts-phone');
    });

    await t.test('a failing preflight is shown and Migrate stays disabled', async () => {
      await openGuest(page, base, 'h1', 'vm-q35');
      assert.equal(await waitForText(guestState(page), /./), 'shut off');
      const dialog = await fillMigrateDialog(page, 'vm-q35', {
        destination: 'h2',
        uri: h2.tcpUri,
        type: 'Permanent',
      });
      const text = await waitForText(verdict(dialog), /^Preflight failed: machine: /);
      assert.match(text, /not supported on this host/);
      const item = dialog
        .getByRole('region', { name: 'Preflight' })
        .getByRole('listitem')
        .filter({ hasText: /^machine — fail — / });
      await item.waitFor();
      assert.equal(
        await dialog.getByRole('button', { name: 'Migrate', exact: true }).isDisabled(),
        true,
      );
      await shot(page, 'migrate-03-preflight-failed');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assert.deepEqual(await listOf(h2), [['parked', 'shut off']], 'nothing reached h2');
    });

    await t.test('cancelling a migration mid-way leaves the guest running on h1', async () => {
      await openGuest(page, base, 'h1', 'vm-a');
      assert.equal(await waitForText(guestState(page), /running/), 'running');
      // 4 MiB/s: the ≈ 70 MiB the guest needs take far longer than the test takes to cancel.
      const dialog = await fillMigrateDialog(page, 'vm-a', {
        destination: 'h2',
        uri: h2.tcpUri,
        type: 'Temporary',
        bandwidthMiBs: 4,
      });
      await confirmMigrate(dialog);
      await progressSection(page).waitFor();
      await waitForChartPoints(page, 1);
      // The progress survives leaving the page and coming back.
      await page.getByRole('link', { name: 'All hosts' }).click();
      await page.getByRole('heading', { name: 'Hosts', level: 1 }).waitFor();
      await page.goBack();
      await progressSection(page).waitFor();
      await shot(page, 'migrate-04-cancel-progress');
      await page.getByRole('button', { name: 'Cancel migration' }).click();
      await waitForText(page.getByTestId('migration-phase'), /^Cancelled/);
      await waitForText(resultSection(page).getByRole('alert'), /cancel/i);
      assert.equal(await waitForText(guestState(page), /running/), 'running');
      await shot(page, 'migrate-05-cancelled');
      assert.deepEqual(await listOf(h2), [['parked', 'shut off']]);
      assert.equal((await listOf(h1)).find(([n]) => n === 'vm-a')?.[1], 'running');
      await keepsBeating(serialA);
      assertOneLife(serialA);
    });

    await t.test(
      'Temporary: the chart grows, the guest runs on h2, h1 keeps the definition',
      async () => {
        await openGuest(page, base, 'h1', 'vm-a');
        // 8 MiB/s: about 10 s, long enough to watch the chart grow.
        const dialog = await fillMigrateDialog(page, 'vm-a', {
          destination: 'h2',
          uri: h2.tcpUri,
          type: 'Temporary',
          bandwidthMiBs: 8,
        });
        await shot(page, 'migrate-06-dialog-temporary');
        await confirmMigrate(dialog);
        await progressSection(page).waitFor();
        const early = await waitForChartPoints(page, 1);
        await waitForText(page.getByTestId('migration-phase'), /^Pre-copy, iteration \d+/);
        await page.getByRole('progressbar', { name: 'Progress' }).waitFor();
        // 16 samples take 4 s or more (one per 250 ms at most), when at 8 MiB/s the ≈ 70 MiB
        // are not all sent yet: the chart has grown while the migration runs.
        const later = await waitForChartPoints(page, Math.max(early, 16));
        assert.ok(later > early, 'the chart grew');
        assert.equal(await resultSection(page).count(), 0, 'still migrating');
        await shot(page, 'migrate-07-progress');
        const result = resultSection(page);
        await waitForText(result, /Migration completed/, 120_000);
        assert.ok((await chartPoints(page)) >= later);
        await waitForText(page.getByTestId('migration-phase'), /^Completed/);
        await shot(page, 'migrate-08-completed');
        await result.getByRole('link', { name: 'Open vm-a on h2' }).click();
        await page.getByRole('heading', { name: 'vm-a', level: 1 }).waitFor();
        await page.getByText('on h2', { exact: true }).waitFor();
        assert.equal(await waitForText(guestState(page), /running/), 'running');
        await shot(page, 'migrate-09-on-destination');

        assert.equal((await listOf(h1)).find(([n]) => n === 'vm-a')?.[1], 'shut off');
        assert.equal((await listOf(h2)).find(([n]) => n === 'vm-a')?.[1], 'running');
        assert.equal(await persistentOn(h2, 'vm-a'), 'no', 'a transient copy on h2');
        assert.equal(await persistentOn(h1, 'vm-a'), 'yes', 'h1 keeps the definition');
        await keepsBeating(serialA);
        assertOneLife(serialA);
      },
    );

    await t.test(
      'Permanent, with max downtime set and post-copy switched from the page: persistent on h2, gone from h1',
      async () => {
        await openGuest(page, base, 'h1', 'vm-b');
        // Capped and with post-copy allowed only after 10 minutes: the switch is the button's.
        const dialog = await fillMigrateDialog(page, 'vm-b', {
          destination: 'h2',
          uri: h2.tcpUri,
          type: 'Permanent',
          bandwidthMiBs: 4,
          postcopyAfterS: 600,
        });
        await confirmMigrate(dialog);
        await waitForText(page.getByTestId('migration-phase'), /^Pre-copy/);
        const progress = progressSection(page);
        await progress.getByLabel('Max downtime (ms)').fill('700');
        await progress.getByRole('button', { name: 'Set max downtime' }).click();
        await waitUntil(
          'the max downtime set from the page to reach ferryd',
          async () => (await h1.ferryOk('migrate-getmaxdowntime', 'vm-b')).trim() === '700',
          30_000,
        );
        await progress.getByRole('button', { name: 'Switch to post-copy' }).click();
        await waitForText(page.getByTestId('migration-phase'), /^(Post-copy|Completed)/);
        assert.equal(await progress.getByRole('alert').count(), 0, 'the switch was accepted');
        const result = resultSection(page);
        await waitForText(result, /Migration completed/, 120_000);
        await shot(page, 'migrate-10-permanent-completed');
        await result.getByRole('link', { name: 'Open vm-b on h2' }).click();
        assert.equal(await waitForText(guestState(page), /running/), 'running');

        assert.equal(
          (await listOf(h1)).find(([n]) => n === 'vm-b'),
          undefined,
          'vm-b left h1',
        );
        assert.equal((await listOf(h2)).find(([n]) => n === 'vm-b')?.[1], 'running');
        assert.equal(await persistentOn(h2, 'vm-b'), 'yes');
        await keepsBeating(serialB);
        assertOneLife(serialB);
        // The hosts page follows by events: vm-b under h2 now, not under h1.
        await openHosts(page, base);
        await waitForGuestRow(page, 'h2', 'vm-b', 'running');
        assert.equal(
          await page
            .getByRole('table', { name: 'Guests on h1' })
            .getByRole('link', { name: 'vm-b', exact: true })
            .count(),
          0,
        );
        const { stdout: done } = await h2.ferry('domjobinfo', 'vm-b', '--completed');
        t.diagnostic(`pages vm-b asked for in post-copy: ${jobField(done, 'Postcopy requests')}`);

        // Forgetting h2: its section goes, h1's stays; h2 itself is untouched.
        await hostSection(page, 'h2').getByRole('button', { name: 'Remove host h2' }).click();
        await hostSection(page, 'h2').waitFor({ state: 'detached' });
        await waitForGuestRow(page, 'h1', 'vm-a', 'shut off');
        assert.equal((await listOf(h2)).find(([n]) => n === 'vm-b')?.[1], 'running');
      },
    );
  },
);
