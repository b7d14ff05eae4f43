import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatKeyValues, formatTable } from './table.js';

// Expected strings captured from virsh 9.0 (`virsh -c test:///default list --all`).
test('formatTable() matches virsh list --all byte for byte', () => {
  const out = formatTable(
    ['Id', 'Name', 'State'],
    [
      ['1', 'test', 'running'],
      ['-', 'foo', 'shut off'],
    ],
  );
  assert.equal(
    out,
    ' Id   Name   State\n-----------------------\n 1    test   running\n -    foo    shut off\n\n',
  );
});

test('formatTable() matches virsh list of no domains', () => {
  assert.equal(
    formatTable(['Id', 'Name', 'State'], []),
    ' Id   Name   State\n--------------------\n\n',
  );
});

test('formatKeyValues() pads keys like virsh dominfo', () => {
  assert.equal(
    formatKeyValues([
      ['Id', '1'],
      ['Security model', 'none'],
    ]),
    'Id:             1\nSecurity model: none\n\n',
  );
});
