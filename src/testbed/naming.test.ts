import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { FerryError } from '../common/errors.js';
import {
  checkTestbedName,
  decideIsolation,
  hostAddress,
  hostNames,
  NOT_ROOT_NOTICE,
  randomTestbedName,
} from './naming.js';

test('decideIsolation() makes namespaces as root and falls back to loopback hosts otherwise', () => {
  assert.deepEqual(decideIsolation(0), { namespaces: true, notice: undefined });
  assert.deepEqual(decideIsolation(1000), { namespaces: false, notice: NOT_ROOT_NOTICE });
  assert.match(NOT_ROOT_NOTICE, /^testbed: not running as root; falling back to loopback hosts/);
});

test('hostNames() gives h1…hN by default, or the names given', () => {
  assert.deepEqual(hostNames({}), ['h1', 'h2']);
  assert.deepEqual(hostNames({ hosts: 3 }), ['h1', 'h2', 'h3']);
  assert.deepEqual(hostNames({ names: ['source', 'destination'] }), ['source', 'destination']);
  assert.deepEqual(hostNames({ hosts: 2, names: ['a', 'b'] }), ['a', 'b']);
});

test('hostNames() refuses bad counts and names before anything is made', () => {
  const refused = (opts: Parameters<typeof hostNames>[0], re: RegExp): void =>
    assert.throws(
      () => hostNames(opts),
      (err: unknown) =>
        err instanceof FerryError && err.code === 'INVALID_ARG' && re.test(err.message),
    );
  refused({ hosts: 0 }, /Invalid host count 0/);
  refused({ hosts: 101 }, /Invalid host count 101/);
  refused({ hosts: 1.5 }, /Invalid host count/);
  refused({ hosts: 3, names: ['a', 'b'] }, /2 host names given for 3 hosts/);
  refused({ names: ['a', 'a'] }, /'a' is given twice/);
  refused({ names: ['Big'] }, /Invalid host name 'Big'/);
  refused({ names: ['a b'] }, /Invalid host name/);
  refused({ names: ['x-'] }, /Invalid host name 'x-'/);
  refused({ names: ['switch'] }, /'switch' is reserved/);
  refused({ names: [] }, /Invalid host count 0/);
});

test('hostAddress() numbers hosts from .11 in the testbed subnet', () => {
  assert.equal(hostAddress(true, 1, 1), '10.77.1.11');
  assert.equal(hostAddress(true, 254, 100), '10.77.254.110');
  assert.equal(hostAddress(false, 3, 2), '127.77.3.12');
});

test('testbed names are short, lower-case, and random ones are valid', () => {
  assert.match(randomTestbedName(), /^ftb[0-9a-f]{8}$/);
  assert.notEqual(randomTestbedName(), randomTestbedName());
  assert.equal(checkTestbedName(randomTestbedName()).length, 11);
  for (const bad of ['', 'Ftb', '1abc', 'a--b', 'a/b', 'x'.repeat(25)])
    assert.throws(() => checkTestbedName(bad), /Invalid testbed name/);
});
