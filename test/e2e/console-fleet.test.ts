/**
 * The console's Fleet page in a real browser on three testbed hosts: h1 serves the console
 * and coordinates (a fleet member by its own network URI), h2 and h3 are added on the Hosts
 * page. Two small guests run on h1; the page shows each member's capacity, plans the
 * evacuation of h1 (a diagram with one arrow per guest, the table of moves), runs it with
 * live progress and shows the result; then the CLI finds both guests running on their
 * targets and each guest's own heartbeat shows one life and no corrupted page.
 * @module
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestbedHost } from '../../src/testbed/index.js';
import { assertOneLife, keepsBeating } from '../helpers/migration.js';
import { listOf, startGuestOn } from '../helpers/remote.js';
import { newContext, PHONE, scrollsSideways, shot, signIn, type Page } from './browser.js';
import { hostSection, openHosts, waitForText } from './console-pages.js';
import { ACCOUNT, ROOT_ONLY, useConsoleTestbed } from './console-testbed.js';

/** Small, quiet guests: the moves are short on 2 cores under TCG. */
const GUEST = { hbMs: 500, dirtyMiB: 4, dirtyRate: 4 } as const;
const GUESTS = ['vm-a', 'vm-b'] as const;

/** Which hosts list `guest` (any state), with its state there. */
async function whereIs(hosts: readonly TestbedHost[], guest: string): Promise<string[]> {
  const found: string[] = [];
  for (const h of hosts) {
    const row = (await listOf(h)).find(([n]) => n === guest);
    if (row !== undefined) found.push(`${h.name}:${row[1]}`);
  }
  return found;
}

/** One attribute of each arrow of the plan diagram, in drawing order. */
async function arrowAttribute(page: Page, name: string): Promise<(string | null)[]> {
  const arrows = page.getByRole('figure', { name: 'Plan diagram' }).getByTestId('plan-arrow');
  const values: (string | null)[] = [];
  for (let i = 0; i < (await arrows.count()); i++)
    values.push(await arrows.nth(i).getAttribute(name));
  return values;
}

/** Adds a host on the Hosts page by its URI and waits until it shows reachable. */
async function addOnHostsPage(page: Page, host: TestbedHost): Promise<void> {
  await page.getByLabel('Host URI').fill(host.tcpUri);
  await page.getByRole('button', { name: 'Add host' }).click();
  await hostSection(page, host.name).getByText('reachable', { exact: true }).waitFor();
}

void test(
  'console: the Fleet page plans and runs the evacuation of a host',
  { ...ROOT_ONLY, timeout: 420_000 },
  async (t) => {
    const { browser, base, hosts } = await useConsoleTestbed(t, {
      hosts: 3,
      extraConfig: () => 'host_memory_mib = 1024\n',
    });
    const [h1, h2, h3] = hosts as [TestbedHost, TestbedHost, TestbedHost];
    const serials = await Promise.all(
      GUESTS.map((name) => startGuestOn(t, h1, { name, ...GUEST })),
    );
    const ctx = await newContext(browser);
    t.after(() => ctx.close());
    const page: Page = await ctx.newPage();
    await signIn(page, base, ACCOUNT.user, ACCOUNT.password);

    await t.test('the fleet: h2 and h3 added on the Hosts page, h1 by its own URI', async () => {
      await openHosts(page, base);
      await addOnHostsPage(page, h2);
      await addOnHostsPage(page, h3);
      // h1 plans over itself only when it is a member by a URI the others reach it by.
      await h1.ferryOk('fleet', 'add', h1.tcpUri);
      await page.getByRole('navigation').getByRole('link', { name: 'Fleet' }).click();
      await page.getByRole('heading', { name: 'Fleet', level: 1 }).waitFor();
      for (const h of hosts) {
        const section = page.getByRole('region', { name: `Capacity ${h.name}`, exact: true });
        await section.waitFor();
        await section.getByRole('meter', { name: `Memory on ${h.name}` }).waitFor();
        await section.getByRole('meter', { name: `vCPUs on ${h.name}` }).waitFor();
        await section.getByRole('meter', { name: `Load on ${h.name}` }).waitFor();
        // host_memory_mib = 1024: every member offers 1 GiB.
        await section.getByText(/ of 1 GiB \(/).waitFor();
      }
      const chips = page.getByRole('list', { name: 'Guests on h1' });
      for (const g of GUESTS) await chips.getByText(g).waitFor();
      await shot(page, 'fleet-01-capacity');
    });

    await t.test('the evacuation of h1 is drawn before it runs', async () => {
      const form = page.getByRole('form', { name: 'Evacuate' });
      await form.getByLabel('Host to evacuate').selectOption('h1');
      await form.getByRole('button', { name: 'Plan' }).click();
      const diagram = page.getByRole('figure', { name: 'Plan diagram' });
      await diagram.waitFor({ timeout: 60_000 });
      const arrows = diagram.getByTestId('plan-arrow');
      assert.equal(await arrows.count(), 2);
      assert.deepEqual((await arrowAttribute(page, 'data-guest')).sort(), [...GUESTS]);
      const table = page.getByRole('table', { name: 'Planned moves' });
      const rows = table.locator('tbody tr');
      assert.equal(await rows.count(), 2);
      for (let i = 0; i < 2; i++) {
        const cells = (await rows.nth(i).getByRole('cell').allTextContents()).map((s) => s.trim());
        // # | Guest | From | To | Mode | …
        assert.equal(cells[2], 'h1', cells.join(' | '));
        assert.ok(cells[3] === 'h2' || cells[3] === 'h3', cells.join(' | '));
        assert.equal(cells[4], 'live');
      }
      await page.getByText(/^Parallel: \d+ \(/).waitFor();
      await page.getByText(/^Predicted total: /).waitFor();
      assert.equal(await scrollsSideways(page), false, 'the plan scrolls the page sideways');
      await shot(page, 'fleet-02-plan');
    });

    await t.test('running it shows progress, then the result', async () => {
      await page.getByRole('button', { name: 'Run plan' }).click();
      await page.getByRole('progressbar', { name: 'Plan progress' }).waitFor();
      for (const g of GUESTS) await page.getByRole('progressbar', { name: `Move ${g}` }).waitFor();
      const result = page.getByRole('region', { name: 'Plan result' });
      await result.waitFor({ timeout: 300_000 });
      const line = await waitForText(result.getByTestId('plan-result'), /moved/);
      assert.match(line, /^2 moved, 0 failed, 0 skipped in /);
      const states = await arrowAttribute(page, 'data-state');
      assert.deepEqual(states, ['completed', 'completed']);
      await shot(page, 'fleet-03-result');
    });

    await t.test('the CLI finds both guests running on their targets, one life each', async () => {
      for (const g of GUESTS) {
        const where = await whereIs(hosts, g);
        assert.equal(where.length, 1, `${g} is on exactly one host: ${where.join(', ')}`);
        assert.match(where[0] ?? '', /^h[23]:running$/, `${g} runs off h1`);
      }
      for (const serial of serials) {
        await keepsBeating(serial);
        assertOneLife(serial);
      }
    });

    await t.test('the Fleet page on a phone: no sideways scrolling', async () => {
      const phone = await newContext(browser, PHONE);
      t.after(() => phone.close());
      const small = await phone.newPage();
      await signIn(small, base, ACCOUNT.user, ACCOUNT.password);
      await small.goto(new URL('/#/fleet', base).href);
      await small.getByRole('region', { name: 'Capacity h3', exact: true }).waitFor();
      assert.equal(await scrollsSideways(small), false, 'the Fleet page scrolls sideways');
      await shot(small, 'fleet-04-phone');
    });
  },
);
