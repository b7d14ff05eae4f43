/**
 * The CPU and capability RPC methods (host.capabilities, host.domcapabilities, cpu.*), each a
 * thin call into the daemon's HostCpus (cpu.checkGuest into its CpuService).
 * @module
 */
import { cpuDefOf } from '../cpu/guest-cpu-wire.js';
import type { HostCpus } from '../cpu/host-cpus.js';
import type { Handlers } from '../rpc/index.js';
import type { Methods } from '../rpc/methods.js';
import type { CpuMethodName } from '../rpc/schema/cpu-methods.js';
import type { ConnectionState } from './handlers.js';

type CpuHandlers = Pick<Handlers<Methods, ConnectionState>, CpuMethodName>;

export function createCpuHandlers(cpus: HostCpus): CpuHandlers {
  return {
    'host.capabilities': async () => ({ xml: await cpus.capabilitiesXml() }),
    'host.domcapabilities': async (p) => ({ xml: await cpus.domCapabilitiesXml(p) }),
    'cpu.hostModel': () => cpus.hostModel(),
    'cpu.baseline': async (p) => ({ xml: await cpus.baselineXml(p) }),
    'cpu.checkGuest': (p) =>
      cpus.service.checkGuest(p.cpu === null ? undefined : cpuDefOf(p.cpu), p.sourceCpu),
    'cpu.compare': async (p) => {
      const out = await cpus.compare(p);
      return {
        result: out.result,
        ...(out.message === undefined ? {} : { message: out.message }),
        missingFeatures: out.missingFeatures,
      };
    },
  };
}
