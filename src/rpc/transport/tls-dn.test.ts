import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { dnAllowed } from './tls-dn.js';

void test('dnAllowed() matches exact DNs and libvirt globs', () => {
  const dn = 'C=GB,O=Ferry,CN=host1.example.com';
  assert.equal(dnAllowed(dn, [dn]), true);
  assert.equal(dnAllowed(dn, ['C=GB,O=Ferry,CN=*']), true);
  assert.equal(dnAllowed(dn, ['C=GB,O=Ferry,CN=host?.example.com']), true);
  // '*' runs over commas, as g_pattern_match_simple's does.
  assert.equal(dnAllowed(dn, ['C=GB,*']), true);
  assert.equal(dnAllowed(dn, ['*']), true);
  assert.equal(
    dnAllowed(dn, ['C=GB,O=Ferry,CN=host2.example.com', 'C=GB,O=Ferry,CN=*.example.com']),
    true,
  );
});

void test('dnAllowed() refuses near misses: anchored, case-sensitive, no regex leaks', () => {
  const dn = 'C=GB,O=Ferry,CN=host1.example.com';
  assert.equal(dnAllowed(dn, []), false);
  assert.equal(dnAllowed(dn, ['C=GB,O=Ferry,CN=host1']), false);
  assert.equal(dnAllowed(dn, ['O=Ferry,CN=host1.example.com']), false);
  assert.equal(dnAllowed(dn, ['c=gb,o=ferry,cn=host1.example.com']), false);
  assert.equal(dnAllowed(dn, ['C=GB,O=Ferry,CN=host1.example.co?m']), false);
  // '.' in a pattern is a dot, not any character.
  assert.equal(dnAllowed('C=GB,O=Ferry,CN=hostXexample', ['C=GB,O=Ferry,CN=host.example']), false);
  // Escaped commas in a value stay part of that value.
  assert.equal(dnAllowed('C=GB,O=A\\, B,CN=h', ['C=GB,O=A\\, B,CN=h']), true);
});
