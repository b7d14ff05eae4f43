/**
 * The fleet: the hosts this ferryd knows besides itself (added by URI from `ferry fleet add`
 * or the web console's "Add host"), kept in STATE_DIR/fleet-hosts.json and reached over peer
 * connections. The console lists and relays to them; fleet plans place guests across them.
 * @module
 */
export { FLEET_HOSTS_FILE, FleetStore, hostIdOf } from './fleet-store.js';
export type { FleetHostRecord } from './fleet-store.js';
export { LOCAL_HOST_ID, LOCAL_URI, FleetMembers } from './fleet-members.js';
export type { ConnectHost, HostClient, FleetMembersOptions } from './fleet-members.js';
export { PLAN_LIFETIME_MS, PlanStore } from './plan-store.js';
export type { PlanHost, PlanRecord } from './plan-store.js';
export { RETURNS_FILE, ReturnRecords } from './return-records.js';
export type { ReturnRecord } from './return-records.js';
export { PlanRun, PROGRESS_INTERVAL_MS } from './run-plan.js';
export type { MoveOutcome, MoveRunner, PlanRunOptions, ReturnBook, RunClock } from './run-plan.js';
export { MoveProgress } from './move-progress.js';
export { streamLimit } from './planner/order.js';
export type { MoveSnapshot } from './move-progress.js';
