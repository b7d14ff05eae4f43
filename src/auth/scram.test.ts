import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  ScramClient,
  ScramServerExchange,
  checkPassword,
  formatVerifier,
  makeVerifier,
  parseClientFirst,
  parseVerifier,
  saslPrep,
} from './scram.js';

// RFC 7677 section 3: the SCRAM-SHA-256 example exchange.
const RFC = {
  user: 'user',
  password: 'pencil',
  clientNonce: 'rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst:
    'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal:
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

void test('ScramClient produces RFC 7677 test vector messages and accepts its server signature', () => {
  const client = new ScramClient(RFC.user, RFC.password, RFC.clientNonce);
  assert.equal(client.clientFirst, RFC.clientFirst);
  assert.equal(client.clientFinal(RFC.serverFirst), RFC.clientFinal);
  client.verifyServerFinal(RFC.serverFinal);
});

void test('ScramServerExchange answers the RFC 7677 test vector from the verifier alone', () => {
  const verifier = makeVerifier(RFC.password, { salt: Buffer.from(RFC.salt, 'base64') });
  const exchange = new ScramServerExchange(
    parseClientFirst(RFC.clientFirst),
    verifier,
    RFC.serverNonce,
  );
  assert.equal(exchange.serverFirst, RFC.serverFirst);
  assert.equal(exchange.finish(RFC.clientFinal), RFC.serverFinal);
});

void test('a wrong password gives no server signature; a forged one is refused by the client', () => {
  const verifier = makeVerifier('right');
  const client = new ScramClient('fred', 'wrong');
  const exchange = new ScramServerExchange(parseClientFirst(client.clientFirst), verifier);
  assert.equal(exchange.finish(client.clientFinal(exchange.serverFirst)), undefined);

  const good = new ScramClient('fred', 'right');
  const ex2 = new ScramServerExchange(parseClientFirst(good.clientFirst), verifier);
  const final = ex2.finish(good.clientFinal(ex2.serverFirst));
  assert.ok(final !== undefined);
  good.verifyServerFinal(final);
  assert.throws(() => good.verifyServerFinal(`v=${Buffer.alloc(32).toString('base64')}`), {
    code: 'AUTH_FAILED',
    message: /could not prove it knows this account/,
  });
});

void test('user names with , and = survive the saslname escaping', () => {
  const client = new ScramClient('a,b=c', 'pw');
  assert.match(client.clientFirst, /^n,,n=a=2Cb=3Dc,r=/);
  assert.equal(parseClientFirst(client.clientFirst).user, 'a,b=c');
});

void test('malformed or unsupported messages are protocol errors, not crashes', () => {
  for (const bad of [
    'p=tls-unique,,n=u,r=x',
    'n,a=admin,n=u,r=x',
    'n,,n=u',
    'n,,r=x',
    'n,,n=u=,r=x',
    'garbage',
  ]) {
    assert.throws(() => parseClientFirst(bad), { code: 'AUTH_FAILED' }, bad);
  }
  const client = new ScramClient('u', 'p', 'abc');
  assert.throws(() => client.clientFinal('r=zzz,s=AAAA,i=4096'), /changed the client nonce/);
  assert.throws(() => client.clientFinal('r=abcd,s=AAAA,i=1'), /iteration count 1 is out of range/);
  assert.throws(() => client.verifyServerFinal('v=AAAA'), /expected v=SERVERSIGNATURE/);
  const exchange = new ScramServerExchange(parseClientFirst(client.clientFirst), makeVerifier('p'));
  assert.throws(() => exchange.finish('c=biws,r=wrong,p=AAAA'), /nonce does not match/);
  assert.throws(() => exchange.finish('no proof here'), /expected c=…,r=…,p=PROOF/);
});

void test('verifiers round-trip through PostgreSQL text form and check passwords', async () => {
  const v = makeVerifier('secret');
  const text = formatVerifier(v);
  assert.match(text, /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
  assert.deepEqual(parseVerifier(text), v);
  assert.equal(await checkPassword(v, 'secret'), true);
  assert.equal(await checkPassword(v, 'Secret'), false);
  assert.throws(() => parseVerifier('md5abc'), /expected SCRAM-SHA-256\$/);
  assert.throws(() => parseVerifier('SCRAM-SHA-256$0:AAAA$AAAA:AAAA'), /iteration count 0/);
  assert.throws(() => parseVerifier('SCRAM-SHA-256$4096:AAAA$AAAA:AAAA'), /must be 32 bytes/);
});

void test('saslPrep() maps non-ASCII spaces and soft hyphens, and NFKC-normalises', () => {
  assert.equal(saslPrep('I\u00ADX'), 'IX');
  assert.equal(saslPrep('a\u00A0b'), 'a b');
  assert.equal(saslPrep('\u2168'), 'IX');
  assert.equal(saslPrep('e\u0301'), '\u00E9');
});
