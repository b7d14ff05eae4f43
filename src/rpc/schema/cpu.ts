/**
 * Schemas of CPU model data exchanged between hosts: a host's CPU in libvirt's host-model form
 * (what `virsh domcapabilities` shows under `<mode name='host-model'>`).
 * @module
 */
import { z } from 'zod';

export const HostCpuModel = z.strictObject({
  arch: z.string().min(1).max(32),
  /** libvirt's vendor name from cpu_map ('Intel', 'AMD'). */
  vendor: z.string().max(64),
  /** The named cpu_map model the features are relative to ('IvyBridge-IBRS'). */
  model: z.string().min(1).max(128),
  features: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(64),
        policy: z.enum(['require', 'disable']),
      }),
    )
    .max(1024),
});
export type HostCpuModel = z.output<typeof HostCpuModel>;

/** Whether a host can run a guest's CPU, with the reason in one line. */
export const CpuCheckOutcome = z.strictObject({
  verdict: z.enum(['pass', 'warn', 'fail', 'skip']),
  reason: z.string(),
  /** Features the guest needs that the host lacks (empty unless it fails on them). */
  missingFeatures: z.array(z.string()),
});
export type CpuCheckOutcome = z.output<typeof CpuCheckOutcome>;
