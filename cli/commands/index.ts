import type { Command } from '../command.ts';
import { upCommand } from './up.ts';
import { configCommand } from './config.ts';
import { simulatorCommand } from './simulator.ts';
import { watchCommand } from './watch.ts';
import { gatewayCommand } from './gateway.ts';
import { benchCommand } from './bench.ts';
import { consoleCommand } from './console.ts';

/** Every command, in the order `facegate --help` lists them. */
export const commands: Record<string, Command> = Object.fromEntries(
  [
    upCommand,
    simulatorCommand,
    gatewayCommand,
    watchCommand,
    configCommand,
    consoleCommand,
    benchCommand,
  ].map((c) => [c.name, c]),
);
