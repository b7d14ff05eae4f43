/**
 * Link control between a host and the switch: cut and restore the host's cable (its veth's
 * switch end down or up: no RST, peers notice only by timeouts and keepalive, as with a pulled
 * cable), and bandwidth shaping with `tc tbf` on both ends of the veth (netem is not in this
 * kernel), so each direction is limited on its way out.
 * @module
 */
import { FerryError } from '../common/errors.js';
import { HOST_INTERFACE } from './naming.js';
import { run, runOk } from './processes.js';

const UNITS: Readonly<Record<string, number>> = {
  bit: 1,
  kbit: 1e3,
  mbit: 1e6,
  gbit: 1e9,
  bps: 8,
  kbps: 8e3,
  mbps: 8e6,
  gbps: 8e9,
};

/** A tc rate ('80mbit', '1gbit', '500kbit', '10mbps') in bits per second. */
export function parseRate(rate: string): number {
  const m = /^(\d+(?:\.\d+)?)([a-z]+)$/i.exec(rate.trim());
  const unit = m?.[2] === undefined ? undefined : UNITS[m[2].toLowerCase()];
  const value = Number(m?.[1]);
  if (unit === undefined || !(value > 0))
    throw new FerryError(
      'INVALID_ARG',
      `Invalid rate '${rate}': expected a number and a tc unit (bit, kbit, mbit, gbit, bps, kbps, mbps, gbps), e.g. 80mbit`,
    );
  return value * unit;
}

/** Bytes tbf may send at once: 20 ms at the rate, and at least 32 KiB (several MTUs). */
export function burstBytes(bitsPerSecond: number): number {
  return Math.max(32 * 1024, Math.ceil(bitsPerSecond / 8 / 50));
}

/** The qdisc arguments after `root` for `rate`. */
export function tbfArgs(rate: string): string[] {
  const bits = parseRate(rate);
  // latency bounds the queue: 100 ms of backlog before tbf drops, as a modest switch buffer.
  return ['tbf', 'rate', rate, 'burst', String(burstBytes(bits)), 'latency', '100ms'];
}

/** Where a host's veth ends are: `switchIf` in the switch namespace, eth0 in the host's. */
export interface HostLink {
  switchNetns: string;
  switchIf: string;
  hostNetns: string;
}

export async function setLinkUp(link: HostLink, up: boolean): Promise<void> {
  await runOk(['ip', '-n', link.switchNetns, 'link', 'set', link.switchIf, up ? 'up' : 'down']);
}

async function setQdisc(netns: string, dev: string, rate: string | undefined): Promise<void> {
  if (rate !== undefined) {
    await runOk(['tc', '-n', netns, 'qdisc', 'replace', 'dev', dev, 'root', ...tbfArgs(rate)]);
    return;
  }
  // Deleting the root qdisc where there is none fails; that is the state asked for.
  const r = await run(['tc', '-n', netns, 'qdisc', 'del', 'dev', dev, 'root']);
  if (r.code !== 0 && !/handle of zero|No such file|Invalid handle/i.test(r.stderr))
    throw new FerryError('SYSTEM_ERROR', `Cannot remove the qdisc of ${dev}: ${r.stderr.trim()}`);
}

/** Limits both directions of the host's link to `rate`, or removes the limit (undefined). */
export async function shapeLink(link: HostLink, rate: string | undefined): Promise<void> {
  // Checked before either end changes: a bad rate changes nothing.
  if (rate !== undefined) parseRate(rate);
  await setQdisc(link.hostNetns, HOST_INTERFACE, rate);
  await setQdisc(link.switchNetns, link.switchIf, rate);
}
