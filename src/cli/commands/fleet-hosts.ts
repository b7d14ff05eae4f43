/**
 * `ferry fleet add/list/remove` (issue #8): placeholder until built; registers nothing yet.
 * @module
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';

export function registerFleetHosts(_parent: Command, _ctx: CommandContext): void {
  // Built by issue #8.
}
