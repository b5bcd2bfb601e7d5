// Every way facegate is started runs it with the same V8 settings (shared/node-flags.ts): the
// shebang, npm start and npm run bench, the Docker image and its compose services, the benchmark's
// children. A place that drops them runs a gateway that spends a sixth of a core on garbage
// collection at 200 cameras, and nothing else would say so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../shared/node-flags.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (p: string): string => readFileSync(root + p, 'utf8');
const flags = NODE_FLAGS.join(' ');

test('the shebang and the npm scripts start node with NODE_FLAGS', () => {
  assert.equal(read('bin/facegate.js').split('\n')[0], `#!/usr/bin/env -S node ${flags}`);
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts['start'], `node ${flags} bin/facegate.js up`);
  assert.equal(pkg.scripts['bench'], `node ${flags} bin/facegate.js bench`);
  // The Dockerfile's ENTRYPOINT and the compose entrypoints: test/compose.test.ts checks them.
});

test('the shebang really applies them: the CLI run as a program gets NODE_FLAGS', () => {
  // Run the file itself (not `node file`), so the kernel reads the shebang as a user's shell does.
  const preload = `--require ${root}test/helpers/print-exec-argv.cjs`;
  const r = spawnSync(root + 'bin/facegate.js', ['config', '--help'], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: preload },
  });
  assert.equal(r.status, 0, r.stderr);
  const m = /exec-argv (.*)/.exec(r.stderr);
  assert.ok(m?.[1], `no report in: ${r.stderr}`);
  const argv = JSON.parse(m[1]) as string[];
  for (const f of NODE_FLAGS) assert.ok(argv.includes(f), `${f} not in ${m[1]}`);
});
