/**
 * The preflight on the source: every check a migration of a domain would make, before
 * anything changes, each with a verdict (pass / warn / fail / skip) and its reason.
 *
 *   ferry migrate --dry-run ─migration.preflight─▶ source ferryd: state & flags, devices,
 *                                                  storage proofs (markers), source facts
 *                            ─migration.preflightDestination─▶ destination ferryd: CPU,
 *                                                  machine type, memory, storage, NUMA, versions
 *                            ◀── facts; the source gives every verdict, removes its markers
 *
 * `ferry migrate` runs the same in its begin phase (migrateOut), without the measurements.
 * @module
 */
import { FERRY_VERSION } from '../common/version.js';
import { messageOf } from '../common/errors.js';
import type { DomainDef } from '../domain/def.js';
import { formatDomainXml } from '../domain/xml/index.js';
import type { DomainRecord } from '../host/index.js';
import { readNumaTopology } from '../host/numa.js';
import { checkFlags } from '../migration/flags.js';
import { connectPeer, type PeerClient } from '../migration/peer.js';
import { acceleratorFor, machineFor } from '../qemu/command-line.js';
import { qemuHostFacts } from '../qemu/probe.js';
import type { MigrateFlags } from '../rpc/schema/migration.js';
import {
  PREFLIGHT_CHECK_NAMES,
  type DestinationPreflightResult,
  type PreflightCheck,
  type PreflightCheckName,
  type PreflightReport,
} from '../rpc/schema/preflight.js';
import { checkDevices } from './devices.js';
import { versionedMachine } from './machine.js';
import { checkMemory } from './memory.js';
import { checkNuma, guestNumaOf } from './numa.js';
import { overallVerdict } from './report.js';
import type { PreflightServices } from './services.js';
import { proveSourceDisks, type SourceDiskProofs } from './storage.js';
import { machineFamily, versionsVerdict } from './support-matrix.js';
import { measureChecks, type Measurements } from './measure.js';

export interface PreflightRequest {
  domain: string;
  destUri: string;
  flags: MigrateFlags;
  measure: Measurements;
}

type Lines = Map<PreflightCheckName, Omit<PreflightCheck, 'check'>>;

function report(
  req: PreflightRequest,
  name: string,
  lines: Lines,
  started: number,
): PreflightReport {
  const checks = PREFLIGHT_CHECK_NAMES.map((check): PreflightCheck => ({
    check,
    ...(lines.get(check) ?? { verdict: 'skip', reason: 'not checked' }),
  }));
  return {
    domain: name,
    destUri: req.destUri,
    verdict: overallVerdict(checks),
    checks,
    elapsedMs: Math.round(performance.now() - started),
  };
}

/** The state & flags line: the domain's state fits the flags, and no job holds it. */
function stateLine(rec: DomainRecord, flags: MigrateFlags): Omit<PreflightCheck, 'check'> {
  try {
    checkFlags(flags, { active: rec.proc !== undefined, persistent: rec.persistent });
  } catch (err) {
    return { verdict: 'fail', reason: messageOf(err) };
  }
  if (rec.job !== undefined)
    return {
      verdict: 'fail',
      reason: `domain '${rec.def.name}' has a job already: ${rec.job.operation}`,
    };
  const how = flags.offline
    ? 'offline migration (definition only)'
    : flags.live
      ? 'live migration'
      : 'migration with the guest paused';
  return { verdict: 'pass', reason: `${rec.state}, ${how}` };
}

/**
 * Runs every check for `req`; never throws for a check that fails (it becomes a fail line),
 * only for a domain that does not exist. Talks to the destination through `peer` when given
 * (the migration's own connection), else connects to `req.destUri` and closes afterwards.
 */
export async function runPreflight(
  svc: PreflightServices,
  req: PreflightRequest,
  peer?: PeerClient,
): Promise<PreflightReport> {
  const started = performance.now();
  const rec = svc.domains.get(req.domain);
  const { flags } = req;
  const lines: Lines = new Map();
  lines.set('state', stateLine(rec, flags));
  const base = flags.offline ? rec.def : (rec.liveDef ?? rec.def);
  const def: DomainDef = flags.dname === undefined ? base : { ...base, name: flags.dname };
  lines.set('devices', checkDevices(def));

  let conn = peer;
  if (conn === undefined) {
    try {
      conn = await connectPeer(req.destUri, { keepalive: svc.keepalive });
    } catch (err) {
      lines.set('ports', { verdict: 'fail', reason: messageOf(err) });
      for (const c of ['cpu', 'machine', 'versions', 'numa', 'storage', 'memory'] as const)
        lines.set(c, { verdict: 'skip', reason: 'the destination cannot be reached' });
      return report(req, rec.def.name, lines, started);
    }
  }
  try {
    await checkWithDestination(svc, req, rec, def, conn, lines);
  } catch (err) {
    // The destination could not answer (it went away, or a ferryd without the preflight):
    // what it should have checked fails, so a migration does not go ahead unchecked.
    const why = `the destination could not run its checks: ${messageOf(err)}`;
    for (const c of ['cpu', 'machine', 'versions', 'numa', 'storage', 'memory'] as const)
      if (!lines.has(c)) lines.set(c, { verdict: 'fail', reason: why });
  }
  try {
    await measureChecks(req, rec, def, conn, lines);
  } finally {
    if (peer === undefined) conn.close();
  }
  return report(req, rec.def.name, lines, started);
}

async function sourceMachine(
  svc: PreflightServices,
  def: DomainDef,
  offline: boolean,
): Promise<string> {
  const written = machineFor(def);
  // Offline, the guest boots afresh there: the name as written resolves on the destination.
  if (offline) return written;
  const facts = await qemuHostFacts(svc.qemuBinary, acceleratorFor(def), svc.cacheDir);
  return versionedMachine(facts, written);
}

async function checkWithDestination(
  svc: PreflightServices,
  req: PreflightRequest,
  rec: DomainRecord,
  def: DomainDef,
  peer: PeerClient,
  lines: Lines,
): Promise<void> {
  const { flags } = req;
  const info = await peer.call('host.info', {});
  if (info.hostUuid === svc.hostUuid)
    lines.set('state', {
      verdict: 'fail',
      reason: `the destination is this host (${info.hostUuid})`,
    });
  let machine: string;
  try {
    machine = await sourceMachine(svc, def, flags.offline);
  } catch (err) {
    machine = machineFor(def);
    lines.set('machine', {
      verdict: 'fail',
      reason: `cannot ask the source's QEMU: ${messageOf(err)}`,
    });
  }
  let proofs: SourceDiskProofs | undefined;
  try {
    proofs = await proveSourceDisks(
      await svc.domains.resolveDisks(def),
      flags,
      rec.proc !== undefined,
    );
  } catch (err) {
    lines.set('storage', { verdict: 'fail', reason: messageOf(err) });
  }
  const sourceNuma = readNumaTopology();
  let dest: DestinationPreflightResult;
  try {
    dest = await peer.call('migration.preflightDestination', {
      xml: formatDomainXml(def),
      offline: flags.offline,
      machine,
      sourceCpu: await svc.cpu.hostModel(),
      sourceNuma,
      ...(proofs?.disks === undefined ? {} : { disks: proofs.disks }),
    });
  } finally {
    await proofs?.cleanup().catch((err: unknown) => {
      svc.log.warn(
        { domain: def.name, err: messageOf(err) },
        'cannot remove the preflight disk markers',
      );
    });
  }
  if (dest.conflict !== undefined && lines.get('state')?.verdict !== 'fail')
    lines.set('state', { verdict: 'fail', reason: dest.conflict });
  lines.set('cpu', { verdict: dest.cpu.verdict, reason: dest.cpu.reason });
  if (!lines.has('machine')) lines.set('machine', dest.machine);
  lines.set(
    'versions',
    versionsVerdict(
      { source: FERRY_VERSION, destination: dest.ferryVersion },
      { source: svc.qemuVersion ?? 'unknown', destination: dest.qemuVersion ?? 'unknown' },
      machineFamily(machine),
    ),
  );
  lines.set('numa', checkNuma(guestNumaOf(def), sourceNuma, dest.numa));
  if (proofs !== undefined)
    lines.set(
      'storage',
      dest.storage.verdict === 'pass'
        ? { verdict: 'pass', reason: `${proofs.summary}: ${dest.storage.reason}` }
        : dest.storage,
    );
  lines.set('memory', checkMemory(def.memoryKiB * 1024, dest.memAvailableBytes));
}
