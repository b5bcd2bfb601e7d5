import type { Command } from '../command.ts';
import { configCommand } from './config.ts';

/** Every command, in the order `facegate --help` lists them. */
export const commands: Record<string, Command> = Object.fromEntries([configCommand].map((c) => [c.name, c]));
