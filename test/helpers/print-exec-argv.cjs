// Preloaded by test/node-flags.test.ts: reports the node options a process was started with.
process.on('exit', () => process.stderr.write(`exec-argv ${JSON.stringify(process.execArgv)}\n`));
