/**
 * The server-rendered sign-in page: a plain HTML form (no script, so it works before any of
 * the app loads and under the strict CSP), the login CSRF token in a hidden field, and at most
 * one alert. Every value put into the page is escaped.
 * @module
 */

/** Text made safe for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export const ALERTS = {
  wrongPassword: 'Wrong user name or password.',
  ended: 'Your session has ended; sign in again.',
  formExpired: 'The sign-in form has expired; sign in again.',
  tooMany: (seconds: number): string => `Too many failed sign-ins; try again in ${seconds} s.`,
} as const;

export const NO_ACCOUNTS_NOTICE = 'No console accounts exist: add one with ferry auth-add USER';

export interface LoginPageOptions {
  /** The login CSRF token (also in the ferry_login cookie). */
  csrf: string;
  /** The error or notice shown in role="alert". */
  alert?: string | undefined;
  /** The user name typed before, kept in the field after a failure. */
  user?: string | undefined;
  /** The accounts file has no account: say how to make one. */
  noAccounts?: boolean;
  /** The host's name, for the title. */
  hostname?: string | undefined;
}

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center;background:#f4f5f7;color:#1d1f23}
main{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15);width:min(22rem,calc(100vw - 2rem));box-sizing:border-box}
h1{margin:0 0 1rem;font-size:1.5rem}
label{display:block;margin-top:.75rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #8a8f98;border-radius:4px}
button{margin-top:1.25rem;padding:.5rem 1.25rem;font:inherit;background:#0b5cad;color:#fff;border:0;border-radius:4px;cursor:pointer}
:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
[role=alert]{background:#fdecea;color:#8a1c12;padding:.5rem .75rem;border-radius:4px}
.notice{background:#fff7e0;color:#5c4300;padding:.5rem .75rem;border-radius:4px}
`;

/** The whole sign-in page. */
export function renderLoginPage(options: LoginPageOptions): string {
  const title = options.hostname === undefined ? 'Ferry' : `Ferry on ${options.hostname}`;
  const alert =
    options.alert === undefined ? '' : `<p role="alert">${escapeHtml(options.alert)}</p>\n`;
  const notice =
    options.noAccounts === true
      ? `<p class="notice" role="status">${escapeHtml(NO_ACCOUNTS_NOTICE)}</p>\n`
      : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · ${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${notice}${alert}<form method="post" action="/login">
<input type="hidden" name="csrf" value="${escapeHtml(options.csrf)}">
<label for="user">User name</label>
<input id="user" name="user" autocomplete="username" required value="${escapeHtml(options.user ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>
`;
}
