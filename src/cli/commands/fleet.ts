/**
 * `ferry fleet …` (the hosts plans place guests across, and their common CPU) and the fleet
 * plans `evacuate`, `balance`, `consolidate`: shown first, carried out with --execute.
 * @module
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { registerFleetCpu } from './fleet-cpu.js';
import { registerFleetHosts } from './fleet-hosts.js';
import { registerFleetPlans } from './fleet-plans.js';

/** Registers `fleet` with its subcommands, and the plan commands. */
export function registerFleet(program: Command, ctx: CommandContext): void {
  const fleet = program
    .command('fleet')
    .description('the hosts Ferry plans over: add, list, remove, cpu-baseline');
  registerFleetHosts(fleet, ctx);
  registerFleetCpu(fleet, ctx);
  registerFleetPlans(program, ctx);
}
