/**
 * Schemas of the web console's own methods: the hosts it shows (this ferryd and the remote
 * ferryds its users added by URI, shared by every console user of this ferryd).
 * @module
 */
import { z } from 'zod';

/** One host as the console lists it. */
export const FleetHost = z.strictObject({
  /** 'local' for this ferryd; otherwise a stable short id derived from the URI. */
  id: z.string(),
  /** 'qemu:///system' for this ferryd; otherwise the URI it was added with. */
  uri: z.string(),
  /** What host.info answered; null when the host could not be reached. */
  hostname: z.string().nullable(),
  reachable: z.boolean(),
  /** Why it is not reachable. */
  error: z.string().optional(),
});
export type FleetHost = z.output<typeof FleetHost>;

export const FLEET_METHODS = {
  'fleet.hosts': {
    doc: 'The hosts the web console shows: this one first, then each remote host added, probed with host.info (at most 5 s each) over a peer connection that is kept open.',
    params: z.strictObject({}),
    result: z.strictObject({ hosts: z.array(FleetHost) }),
  },
  'fleet.addHost': {
    doc: 'Add a remote ferryd by connection URI (stored in STATE_DIR/fleet-hosts.json). A bad URI fails with INVALID_ARG, an unreachable host with CONNECT_FAILED (the reason), and neither stores anything; a URI already known returns that host.',
    params: z.strictObject({ uri: z.string().min(1).max(4096) }),
    result: z.strictObject({ host: FleetHost }),
  },
  'fleet.removeHost': {
    doc: 'Remove a remote host by id; an unknown id fails with INVALID_ARG naming it.',
    params: z.strictObject({ id: z.string().min(1).max(64) }),
    result: z.strictObject({ id: z.string() }),
  },
} as const;

export type FleetMethodName = keyof typeof FLEET_METHODS;
