import { strict as assert } from 'node:assert';
import { test, type TestContext } from 'node:test';
import { runTestbedCli } from './cli.js';

/** Runs the CLI with stdout and stderr captured. */
async function cli(
  t: TestContext,
  ...argv: string[]
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  t.mock.method(process.stdout, 'write', (s: string) => ((out += s), true));
  t.mock.method(process.stderr, 'write', (s: string) => ((err += s), true));
  const code = await runTestbedCli(argv);
  t.mock.restoreAll();
  return { code, out, err };
}

test('ferry-testbed refuses bad input with one error line before making anything', async (t) => {
  for (const [argv, message] of [
    [['up', '--rate', 'fast'], /^error: Invalid rate 'fast'/],
    [['up', '0'], /^error: .*expected a host count/],
    [['up', '--names', 'a,a'], /^error: Host name 'a' is given twice/],
    [['up', '3', '--names', 'a,b'], /^error: 2 host names given for 3 hosts/],
    [['up', '--name', 'Bad_Name'], /^error: Invalid testbed name 'Bad_Name'/],
    [['down', 'ftbdoesnotexist'], /^error: No testbed named 'ftbdoesnotexist'/],
    [['cut', 'ftbdoesnotexist', 'h1'], /^error: No testbed named 'ftbdoesnotexist'/],
    [['frobnicate'], /^error: unknown command 'frobnicate'/],
    [['up', '--nfs', 'zz'], /^error: NFS server host 'zz' is not a testbed host/],
    [['up', '--nfs-export', '/srv/x'], /^error: --nfs-export needs --nfs HOST/],
    [['up', '--nfs', 'h1', '--nfs-export', 'srv'], /^error: NFS export directory 'srv' must be/],
    [['up', '--nfs', 'h1', '--nfs-export', '/tmp/x'], /^error: .* must not be under/],
  ] as const) {
    const r = await cli(t, ...argv);
    assert.equal(r.code, 1, argv.join(' '));
    assert.match(r.err, message);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.equal(r.out, '');
  }
});
