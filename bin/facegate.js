#!/usr/bin/env -S node --max-semi-space-size=1 --single-threaded-gc --heap-growing-percent=100
// @ts-check
// The CLI runs the TypeScript sources through tsx, so `npm install` needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2), process.env);
