/**
 * The fleet planner: pure placement of guests across the fleet's members (no I/O, no DOM),
 * from capacities, preflight answers, link bandwidths and dirty rates gathered beforehand.
 * @module
 */
export { planEvacuate } from './evacuate.js';
export type { EvacuateRequest } from './evacuate.js';
export { DEFAULT_MAX_MOVES, MIN_SPREAD_GAIN, planBalance } from './balance.js';
export { DEFAULT_KEEP, planConsolidate } from './consolidate.js';
export { planUndo } from './undo.js';
export { finishPlan } from './finish.js';
export { makespanMs, parallelism, startOrder } from './order.js';
export { headroomKiB } from './headroom.js';
export { FleetState, modeOf, needKiB } from './fleet-state.js';
export { compatKey, linkKey } from './types.js';
export type { Draft, DraftMove, PlannerInput } from './types.js';
