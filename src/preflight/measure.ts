/**
 * The preflight's network and guest lines: the incoming port range reachable from the source
 * (a short send to a sink the destination opens in that range, link.ts), the link's bandwidth
 * and the guest's dirty rate (short measurements, when asked), and the prediction of the
 * migration they lead to (predict.ts).
 * @module
 */
import { messageOf } from '../common/errors.js';
import { parseConnectionUri } from '../common/uri.js';
import type { DomainDef } from '../domain/def.js';
import type { DomainRecord } from '../host/index.js';
import type { PeerClient } from '../migration/peer.js';
import { measureDirtyRate } from '../qemu/dirty-rate.js';
import type { MigrateFlags } from '../rpc/schema/migration.js';
import type { PreflightCheck, PreflightCheckName } from '../rpc/schema/preflight.js';
import { formatBytes } from './format-bytes.js';
import { measureLink, type LinkMeasurement } from './link.js';
import { predictMigration } from './predict.js';
import { residentGuestBytes } from './resident.js';

export interface Measurements {
  bandwidth: boolean;
  dirtyRate: boolean;
}

/** How long the link is measured with --dry-run (the chapter's "short measurement"). */
export const BANDWIDTH_SECONDS = 1;
/** Without a measurement the link check only proves the port range: the shortest send. */
export const PORT_PROBE_SECONDS = 0.1;
/** How long the dirty rate is sampled (QEMU's calc-dirty-rate takes whole seconds). */
export const DIRTY_RATE_SECONDS = 1;

type Line = Omit<PreflightCheck, 'check'>;
type Lines = Map<PreflightCheckName, Line>;

const MiB = 1024 * 1024;

function rate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

export async function dirtyRateLine(
  rec: DomainRecord,
  flags: MigrateFlags,
  measure: Measurements,
): Promise<{ line: Line; bytesPerSecond?: number }> {
  if (!measure.dirtyRate) return { line: { verdict: 'skip', reason: 'not measured' } };
  if (flags.offline || rec.proc === undefined)
    return { line: { verdict: 'skip', reason: 'the guest is not running: no memory moves' } };
  // A measurement would disturb the dirty page tracking of a migration that runs now.
  if (rec.job !== undefined)
    return {
      line: {
        verdict: 'skip',
        reason: `not measured while a job runs on the guest (${rec.job.operation}): see ferry domjobinfo`,
      },
    };
  try {
    const r = await measureDirtyRate(rec.proc.qmp, DIRTY_RATE_SECONDS);
    const mibs = r.megabytesPerSecond ?? 0;
    return {
      line: {
        verdict: 'pass',
        reason: `${mibs} MiB/s (page-sampling over ${r.period ?? DIRTY_RATE_SECONDS} s)`,
      },
      bytesPerSecond: mibs * MiB,
    };
  } catch (err) {
    return { line: { verdict: 'warn', reason: `cannot measure: ${messageOf(err)}` } };
  }
}

/** The ports line, and the link measurement when one was asked for. */
async function linkLines(
  req: { destUri: string; flags: MigrateFlags; measure: Measurements },
  peer: PeerClient,
): Promise<{ ports: Line; bandwidth: Line; link?: LinkMeasurement }> {
  const { flags } = req;
  const answers = `the destination ferryd answers at ${req.destUri}`;
  if (flags.offline && !flags.copyStorageAll)
    return {
      ports: { verdict: 'pass', reason: `${answers}; offline: no stream on the incoming ports` },
      bandwidth: { verdict: 'skip', reason: 'offline: no memory moves' },
    };
  // The address the stream would go to, as the migration's prepare names it; over a unix
  // socket (no host in the URI) the destination listens on loopback, as prepare does.
  const uriHost = parseConnectionUri(req.destUri).host;
  const destHost = uriHost ?? '127.0.0.1';
  const listenAddress = flags.listenAddress ?? (uriHost === undefined ? '127.0.0.1' : undefined);
  const seconds = req.measure.bandwidth ? BANDWIDTH_SECONDS : PORT_PROBE_SECONDS;
  let link: LinkMeasurement;
  try {
    link = await measureLink(peer, destHost, {
      seconds,
      ...(listenAddress === undefined ? {} : { listenAddress }),
    });
  } catch (err) {
    return {
      ports: { verdict: 'fail', reason: messageOf(err) },
      bandwidth: { verdict: 'skip', reason: 'the incoming ports cannot be reached' },
    };
  }
  const ports: Line = {
    verdict: 'pass',
    reason: `${answers}; incoming port ${link.port} (range 49152-49215) reachable from the source`,
  };
  if (!req.measure.bandwidth)
    return { ports, bandwidth: { verdict: 'skip', reason: 'not measured' } };
  const capped =
    flags.bandwidth !== undefined && flags.bandwidth * MiB < link.bytesPerSecond
      ? `, capped to ${flags.bandwidth} MiB/s by --bandwidth`
      : '';
  return {
    ports,
    bandwidth: {
      verdict: 'pass',
      reason: `${rate(link.bytesPerSecond)} measured over ${(link.durationMs / 1000).toFixed(1)} s${capped}`,
    },
    link,
  };
}

function predictionLine(
  rec: DomainRecord,
  def: DomainDef,
  flags: MigrateFlags,
  link: LinkMeasurement | undefined,
  dirtyBytesPerSecond: number | undefined,
): Line {
  if (flags.offline) return { verdict: 'skip', reason: 'offline: no memory moves' };
  if (link === undefined) return { verdict: 'skip', reason: 'needs the bandwidth measurement' };
  if (rec.proc === undefined) return { verdict: 'skip', reason: 'the guest is not running' };
  const memoryBytes = def.memoryKiB * 1024;
  let resident: number;
  try {
    resident = residentGuestBytes(rec.proc.pid, memoryBytes);
  } catch {
    resident = memoryBytes;
  }
  const cap = (flags.bandwidth ?? rec.tuning.bandwidthMiBs) * MiB;
  const p = predictMigration({
    memoryBytes,
    residentBytes: resident,
    bandwidthBytesPerSecond: Math.min(link.bytesPerSecond, cap),
    dirtyBytesPerSecond,
    maxDowntimeMs: rec.tuning.downtimeMs,
    parallelConnections: flags.parallel ? (flags.parallelConnections ?? 2) : undefined,
    autoConverge: flags.autoConverge,
    postcopy: flags.postcopy,
    postcopyAfterMs:
      flags.timeoutPostcopy && flags.timeout !== undefined ? flags.timeout * 1000 : undefined,
    domainName: def.name,
  });
  const expected =
    p.totalMs === undefined
      ? ''
      : `; expected ${(p.totalMs / 1000).toFixed(1)} s${p.downtimeMs === undefined ? '' : `, downtime ${p.downtimeMs} ms`}`;
  const advice =
    p.recommendations.length === 0 ? '' : `; recommended: ${p.recommendations.join(', ')}`;
  // Not converging is a warning, not a refusal: the user's options (or a later --auto) decide.
  return {
    verdict: p.totalMs === undefined ? 'warn' : 'pass',
    reason: `${p.reason}${expected}${advice}`,
  };
}

/** Fills the ports, bandwidth, dirty-rate and prediction lines. */
export async function measureChecks(
  req: { destUri: string; flags: MigrateFlags; measure: Measurements },
  rec: DomainRecord,
  def: DomainDef,
  peer: PeerClient,
  lines: Lines,
): Promise<void> {
  const link = await linkLines(req, peer);
  lines.set('ports', link.ports);
  lines.set('bandwidth', link.bandwidth);
  const dirty = await dirtyRateLine(rec, req.flags, req.measure);
  lines.set('dirty-rate', dirty.line);
  lines.set('prediction', predictionLine(rec, def, req.flags, link.link, dirty.bytesPerSecond));
}
