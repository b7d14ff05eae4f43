import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDomainStats } from './domstats.js';

// Layouts as libvirt 9.0's virsh printed them (see README, domstats).
test('before any measurement: zeros and the default mode, no rate', () => {
  const text = formatDomainStats([
    {
      name: 'dr1',
      active: true,
      dirtyrate: { calcStatus: 0, calcStartTime: 0, calcPeriod: 0, calcMode: 'page-sampling' },
    },
  ]);
  assert.equal(
    text,
    "Domain: 'dr1'\n  dirtyrate.calc_status=0\n  dirtyrate.calc_start_time=0\n  dirtyrate.calc_period=0\n  dirtyrate.calc_mode=page-sampling\n\n",
  );
});

test('while measuring: status 1 and no rate yet', () => {
  const text = formatDomainStats([
    {
      name: 'dr1',
      active: true,
      dirtyrate: { calcStatus: 1, calcStartTime: 38131, calcPeriod: 3, calcMode: 'page-sampling' },
    },
  ]);
  assert.match(text, /calc_status=1\n/);
  assert.match(text, /calc_start_time=38131\n {2}dirtyrate\.calc_period=3\n/);
  assert.doesNotMatch(text, /megabytes_per_second/);
});

test('measured, then an inactive domain with its header alone', () => {
  const text = formatDomainStats([
    {
      name: 'dr1',
      active: true,
      dirtyrate: {
        calcStatus: 2,
        calcStartTime: 38131,
        calcPeriod: 3,
        calcMode: 'page-sampling',
        megabytesPerSecond: 26,
      },
    },
    { name: 'dr2', active: false },
  ]);
  assert.equal(
    text,
    "Domain: 'dr1'\n  dirtyrate.calc_status=2\n  dirtyrate.calc_start_time=38131\n  dirtyrate.calc_period=3\n  dirtyrate.calc_mode=page-sampling\n  dirtyrate.megabytes_per_second=26\n\nDomain: 'dr2'\n\n",
  );
});

test('no domains: nothing at all', () => {
  assert.equal(formatDomainStats([]), '');
});
