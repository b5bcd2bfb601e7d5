import type { Command } from '../command.ts';
import { configCommand } from './config.ts';
import { simulatorCommand } from './simulator.ts';

/** Every command, in the order `facegate --help` lists them. */
export const commands: Record<string, Command> = Object.fromEntries([simulatorCommand, configCommand].map((c) => [c.name, c]));
