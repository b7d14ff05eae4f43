/**
 * The console's pages as a person uses them, by the names and roles the console contract
 * gives them: the hosts page's sections and guest tables, a guest's page, the Migrate dialog,
 * the migration progress and result.
 * @module
 */
import assert from 'node:assert/strict';
import type { Locator, Page } from './browser.js';

/** Waits until `locator`'s text matches `pattern` (and returns that text). */
export async function waitForText(
  locator: Locator,
  pattern: RegExp,
  timeoutMs = 60_000,
): Promise<string> {
  await locator.filter({ hasText: pattern }).first().waitFor({ timeout: timeoutMs });
  return (await locator.first().textContent())?.trim() ?? '';
}

/** A host's section on the hosts page. */
export const hostSection = (page: Page, hostname: string): Locator =>
  page.getByRole('region', { name: `Host ${hostname}`, exact: true });

/** The cells (Name, State, vCPUs, Memory) of guest `name`'s row in host `hostname`'s table. */
export async function guestRow(page: Page, hostname: string, name: string): Promise<string[]> {
  const table = page.getByRole('table', { name: `Guests on ${hostname}`, exact: true });
  const row = table.getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) });
  await row.waitFor();
  return (await row.getByRole('cell').allTextContents()).map((s) => s.trim());
}

/** Waits until guest `name`'s row on `hostname` says `state`; returns the row's cells. */
export async function waitForGuestRow(
  page: Page,
  hostname: string,
  name: string,
  state: string,
  timeoutMs = 30_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const cells = await guestRow(page, hostname, name);
    if (cells[1] === state) return cells;
    if (Date.now() > deadline) assert.fail(`${name} on ${hostname}: ${cells.join(' | ')}`);
    await page.waitForTimeout(200);
  }
}

/** Goes to the hosts page (the app's "All hosts"/#/ route) and waits for its heading. */
export async function openHosts(page: Page, base: string): Promise<void> {
  await page.goto(new URL('/#/', base).href);
  await page.getByRole('heading', { name: 'Hosts', level: 1 }).waitFor();
}

/** Opens guest `name`'s page from host `hostname`'s table on the hosts page. */
export async function openGuest(
  page: Page,
  base: string,
  hostname: string,
  name: string,
): Promise<void> {
  await openHosts(page, base);
  await page
    .getByRole('table', { name: `Guests on ${hostname}`, exact: true })
    .getByRole('link', { name, exact: true })
    .click();
  await page.getByRole('heading', { name, level: 1 }).waitFor();
}

/** The guest page's state word (virsh's: running, paused, shut off). */
export const guestState = (page: Page): Locator => page.getByTestId('guest-state');

export interface MigrateChoices {
  /** The destination host's name as the "Destination host" select shows it. */
  destination: string;
  /** The URI choosing it must fill in. */
  uri: string;
  type: 'Permanent' | 'Temporary';
  /** "Bandwidth limit (MiB/s)" under Advanced. */
  bandwidthMiBs?: number;
  /** "Post-copy after (s)" under Advanced: what lets "Switch to post-copy" act. */
  postcopyAfterS?: number;
}

/** Opens the Migrate dialog of the guest whose page is shown and fills it in. */
export async function fillMigrateDialog(
  page: Page,
  name: string,
  choices: MigrateChoices,
): Promise<Locator> {
  await page.getByRole('button', { name: 'Migrate', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: `Migrate ${name}` });
  await dialog.waitFor();
  const select = dialog.getByLabel('Destination host');
  const labels = await select.locator('option').allTextContents();
  const label = labels.find((l) => l.includes(choices.destination));
  assert.ok(
    label !== undefined,
    `"Destination host" offers ${choices.destination}: ${labels.join(', ')}`,
  );
  await select.selectOption({ label });
  assert.equal(await dialog.getByLabel('Destination URI').inputValue(), choices.uri);
  await dialog.getByRole('radio', { name: new RegExp(`^${choices.type}`) }).check();
  if (choices.bandwidthMiBs !== undefined || choices.postcopyAfterS !== undefined)
    await dialog.getByText('Advanced', { exact: true }).click();
  if (choices.bandwidthMiBs !== undefined)
    await dialog.getByLabel('Bandwidth limit (MiB/s)').fill(String(choices.bandwidthMiBs));
  if (choices.postcopyAfterS !== undefined)
    await dialog.getByLabel('Post-copy after (s)').fill(String(choices.postcopyAfterS));
  return dialog;
}

/** The dialog's preflight verdict line. */
export const verdict = (dialog: Locator): Locator => dialog.getByTestId('preflight-verdict');

/** Waits for a passed preflight, then presses the dialog's Migrate. */
export async function confirmMigrate(dialog: Locator): Promise<void> {
  await waitForText(verdict(dialog), /^Preflight passed/);
  await dialog.getByRole('button', { name: 'Migrate', exact: true }).click();
  await dialog.waitFor({ state: 'hidden' });
}

export const progressSection = (page: Page): Locator =>
  page.getByRole('region', { name: 'Migration progress' });
export const resultSection = (page: Page): Locator =>
  page.getByRole('region', { name: 'Migration result' });

/** The number of samples the remaining-data chart has plotted. */
export async function chartPoints(page: Page): Promise<number> {
  const figure = page.getByRole('figure', { name: 'Remaining data chart' });
  return Number((await figure.getAttribute('data-points')) ?? 'NaN');
}

/** Waits until the chart has plotted more than `than` samples; returns how many. */
export async function waitForChartPoints(
  page: Page,
  than: number,
  timeoutMs = 60_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await chartPoints(page);
    if (n > than) return n;
    if (Date.now() > deadline) assert.fail(`the chart never had more than ${than} points (${n})`);
    await page.waitForTimeout(150);
  }
}
