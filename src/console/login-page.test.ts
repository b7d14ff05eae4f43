import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ALERTS, NO_ACCOUNTS_NOTICE, escapeHtml, renderLoginPage } from './login-page.js';

void test('escapeHtml() escapes the five HTML-special characters', () => {
  assert.equal(
    escapeHtml(`<a href="x" onclick='y'>&</a>`),
    '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
  );
});

void test('the login page is the contract form: labels, hidden csrf, submit button, no script', () => {
  const html = renderLoginPage({ csrf: 'tok123', hostname: 'h1' });
  assert.match(html, /<form method="post" action="\/login">/);
  assert.match(
    html,
    /<label for="user">User name<\/label>\s*<input id="user" name="user" autocomplete="username"/,
  );
  assert.match(
    html,
    /<label for="password">Password<\/label>\s*<input id="password" name="password" type="password"/,
  );
  assert.match(html, /<input type="hidden" name="csrf" value="tok123">/);
  assert.match(html, /<button type="submit">Sign in<\/button>/);
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /role="alert"/);
});

void test('everything put into the login page is escaped', () => {
  const evil = `"><script>alert(1)</script>`;
  const html = renderLoginPage({ csrf: evil, alert: evil, user: evil, hostname: evil });
  assert.doesNotMatch(html, /<script>/);
  assert.equal(html.split('&lt;script&gt;').length - 1, 5, 'title, heading, alert, csrf, user');
});

void test('the alerts and the no-accounts notice', () => {
  const html = renderLoginPage({ csrf: 't', alert: ALERTS.tooMany(42), noAccounts: true });
  assert.match(html, /<p role="alert">Too many failed sign-ins; try again in 42 s.<\/p>/);
  assert.ok(html.includes(NO_ACCOUNTS_NOTICE));
  assert.match(
    renderLoginPage({ csrf: 't', alert: ALERTS.ended }),
    /Your session has ended; sign in again\./,
  );
});
