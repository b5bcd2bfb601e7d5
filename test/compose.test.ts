// docker-compose.yml, Dockerfile, .dockerignore and .env.example checked without a Docker engine:
// every service runs a real facegate command with flags it accepts, its environment passes
// `facegate config check` (defaults and a big city), and the pieces agree with each other
// (ports, host names, the mosquitto listener, the files the image needs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { commands } from '../cli/commands/index.ts';
import { main } from '../cli/main.ts';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { mosquittoPath } from './helpers/broker.ts';
import { needs } from './helpers/tools.ts';
import { freePort, waitForPort } from './helpers/net.ts';
import { NODE_FLAGS } from '../shared/node-flags.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (f: string): string => readFileSync(join(root, f), 'utf8');

type Env = Record<string, string>;
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown, what: string): Obj => {
  assert.ok(isObj(v), `${what} is a mapping`);
  return v;
};
const strings = (v: unknown, what: string): string[] => {
  assert.ok(Array.isArray(v) && v.every((x) => typeof x === 'string'), `${what} is a list of strings`);
  return v as string[];
};

/** Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:+r}, ${VAR:?e}. */
function interpolate(s: string, env: Env): string {
  return s.replace(
    /\$(\$|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_m, what: string, braced: string | undefined, bare: string | undefined) => {
      if (what === '$') return '$';
      if (bare !== undefined) return env[bare] ?? '';
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])(.*))?$/s.exec(braced ?? '');
      assert.ok(m, `bad interpolation \${${braced}}`);
      const [, name, op, arg = ''] = m;
      const v = env[name!];
      const empty = v === undefined || (op?.startsWith(':') && v === '');
      switch (op) {
        case undefined:
          return v ?? '';
        case ':-':
        case '-':
          return empty ? arg : v!;
        case ':+':
        case '+':
          return empty ? '' : arg;
        default:
          assert.ok(!empty, `\${${name}} is required: ${arg}`);
          return v!;
      }
    },
  );
}

function interpolateAll(v: unknown, env: Env): unknown {
  if (typeof v === 'string') return interpolate(v, env);
  if (Array.isArray(v)) return v.map((x) => interpolateAll(x, env));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolateAll(x, env)]));
  return v;
}

/** The compose file as docker compose would see it with this shell environment. */
function compose(shell: Env): Obj {
  // Merge keys (<<) are YAML 1.1, which compose supports: the yaml package needs to be told.
  return obj(
    interpolateAll(parseYaml(read('docker-compose.yml'), { merge: true }), shell),
    'docker-compose.yml',
  );
}

const service = (doc: Obj, name: string): Obj =>
  obj(obj(doc['services'], 'services')[name], `service ${name}`);

function serviceEnv(svc: Obj): Env {
  const env: Env = {};
  for (const [k, v] of Object.entries(obj(svc['environment'] ?? {}, 'environment'))) {
    if (v !== null && v !== undefined) env[k] = String(v);
  }
  return env;
}

function dockerEntrypoint(): string[] {
  const line = read('Dockerfile')
    .split('\n')
    .find((l) => l.startsWith('ENTRYPOINT '));
  assert.ok(line, 'Dockerfile has an ENTRYPOINT');
  return JSON.parse(line.slice('ENTRYPOINT '.length)) as string[];
}

/** facegate's argv for a service: what follows `node <NODE_FLAGS> bin/facegate.js`. */
function facegateArgv(svc: Obj): string[] {
  const image = dockerEntrypoint();
  const entry = svc['entrypoint'] === undefined ? image : strings(svc['entrypoint'], 'entrypoint');
  const head = ['node', ...NODE_FLAGS, 'bin/facegate.js'];
  assert.deepEqual(entry.slice(0, head.length), head);
  return [...entry.slice(head.length), ...strings(svc['command'] ?? [], 'command')];
}

const facegateServices = ['simulator', 'gateway', 'watch'];
const scenarios: { name: string; shell: Env }[] = [
  { name: 'defaults', shell: {} },
  {
    name: 'CAMERAS=2000 SIMULATORS=2 GATEWAYS=4',
    shell: { CAMERAS: '2000', SIMULATORS: '2', GATEWAYS: '4' },
  },
];

/** The short port syntax ([host_ip:]published:target), the one Compose v1 and v2 both accept. */
function shortPort(v: unknown): { hostIp: string; published: string; target: number } {
  assert.equal(typeof v, 'string', `port ${JSON.stringify(v)} uses the short syntax`);
  const m = /^(?:([\d.]+):)?([\d-]+):(\d+)$/.exec(v as string);
  assert.ok(m, `port ${String(v)} is [ip:]published:target`);
  return { hostIp: m[1] ?? '', published: m[2]!, target: Number(m[3]) };
}

function runCli(args: string[], env: Env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['bin/facegate.js', ...args], {
      cwd: root,
      env: { ...env, PATH: process.env['PATH'] ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

const sink = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });

test('services, dependencies, restart policies and healthchecks', () => {
  const doc = compose({});
  // docker-compose 1.29 (the one Debian ships) refuses a top-level name: and long-syntax ports.
  assert.deepEqual(Object.keys(doc).sort(), ['services', 'volumes', 'x-facegate-env', 'x-facegate-image']);
  assert.deepEqual(Object.keys(obj(doc['services'], 'services')), [
    'broker',
    'simulator',
    'gateway',
    'watch',
  ]);
  const broker = service(doc, 'broker');
  assert.equal(broker['image'], 'eclipse-mosquitto:2');
  assert.ok(
    strings(broker['volumes'], 'broker volumes').includes(
      './config/mosquitto.conf:/mosquitto/config/mosquitto.conf:ro',
    ),
  );
  for (const name of ['broker', 'simulator', 'gateway']) {
    const svc = service(doc, name);
    assert.equal(svc['restart'], 'unless-stopped', `${name} restart`);
    assert.ok(
      strings(obj(svc['healthcheck'], `${name} healthcheck`)['test'], 'test').length > 1,
      `${name} healthcheck test`,
    );
  }
  const conditions = (name: string): Obj =>
    Object.fromEntries(
      Object.entries(obj(service(doc, name)['depends_on'], 'depends_on')).map(([k, v]) => [
        k,
        obj(v, k)['condition'],
      ]),
    );
  assert.deepEqual(conditions('simulator'), { broker: 'service_healthy' });
  assert.deepEqual(conditions('gateway'), { broker: 'service_healthy', simulator: 'service_healthy' });
  for (const name of facegateServices) {
    const svc = service(doc, name);
    assert.equal(svc['build'], '.', `${name} builds the image`);
    assert.equal(svc['image'], 'facegate:latest');
  }
  // Only started on demand: `docker compose run --rm watch`.
  assert.deepEqual(service(doc, 'watch')['profiles'], ['tools']);
});

test('each service runs a real facegate command with flags it accepts', async () => {
  const doc = compose({});
  for (const name of facegateServices) {
    const argv = facegateArgv(service(doc, name));
    assert.ok(
      argv[0] && commands[argv[0]],
      `${name}: "${argv[0]}" is a facegate command (${Object.keys(commands).join(', ')})`,
    );
    // --help after strict flag parsing: exit 2 on an unknown flag, 0 otherwise.
    const errors: string[] = [];
    const stderr = new Writable({
      write: (c: Buffer, _e, cb) => {
        errors.push(c.toString());
        cb();
      },
    });
    assert.equal(
      await main([...argv, '--help'], {}, { stdout: sink(), stderr }),
      0,
      `${name}: ${errors.join('')}`,
    );
  }
});

for (const { name, shell } of scenarios) {
  test(`config check passes with every service's environment (${name})`, async () => {
    const doc = compose(shell);
    for (const svc of facegateServices) {
      const r = await runCli(['config', 'check'], serviceEnv(service(doc, svc)));
      assert.equal(r.code, 0, `${svc}: ${r.stderr}`);
      assert.equal(r.stdout, 'config ok\n');
    }
  });
}

test('the pieces agree: host names, ports, replicas, gateway ids, scene cache', () => {
  const conf = read('config/mosquitto.conf');
  assert.match(conf, /^listener 1883$/m);
  assert.match(conf, /^allow_anonymous true$/m);
  for (const { shell } of scenarios) {
    const doc = compose(shell);
    const names = Object.keys(obj(doc['services'], 'services'));
    const cfg = (svc: string): Config => loadConfig({ env: serviceEnv(service(doc, svc)) });
    const sim = cfg('simulator');
    const gw = cfg('gateway');
    const watch = cfg('watch');
    for (const c of [sim, gw, watch]) {
      const url = new URL(c.mqtt.url);
      assert.ok(names.includes(url.hostname), `MQTT host ${url.hostname} is a service`);
      assert.equal(url.hostname, 'broker');
      assert.equal(url.port, '1883');
      assert.equal(c.mqtt.prefix, sim.mqtt.prefix);
    }
    const brokerPort = shortPort((service(doc, 'broker')['ports'] as unknown[])[0]);
    assert.equal(brokerPort.target, 1883);
    assert.equal(brokerPort.hostIp, '127.0.0.1', 'the anonymous broker is not on the network by default');

    // biome-ignore lint/suspicious/noUnnecessaryConditions: an index signature can miss (noUncheckedIndexedAccess; biome#11277)
    assert.equal(sim.city.cameras, Number(shell['CAMERAS'] ?? 50));
    assert.equal(sim.simulator.host, '0.0.0.0');
    // Replicas split the city; each names itself in its catalog URLs (its container's hostname).
    assert.equal(sim.simulator.shard, 'auto');
    assert.equal(sim.simulator.publicHost, '@hostname');
    assert.equal(
      Number(obj(service(doc, 'simulator')['deploy'], 'deploy')['replicas']),
      // biome-ignore lint/suspicious/noUnnecessaryConditions: an index signature can miss (noUncheckedIndexedAccess; biome#11277)
      Number(shell['SIMULATORS'] ?? 1),
    );
    const rtsp = shortPort((service(doc, 'simulator')['ports'] as unknown[])[0]);
    assert.equal(rtsp.target, sim.simulator.port);
    assert.equal(rtsp.hostIp, '127.0.0.1');
    assert.match(rtsp.published, /^\d+-\d+$/, 'a range: one host port per simulator replica');
    assert.ok(
      strings(obj(service(doc, 'simulator')['healthcheck'], 'hc')['test'], 'test')
        .join(' ')
        .includes(`/dev/tcp/127.0.0.1/${sim.simulator.port} `),
    );
    const cacheMount = strings(service(doc, 'simulator')['volumes'], 'volumes').map(
      (v) => v.split(':')[1] ?? '',
    );
    assert.ok(
      cacheMount.some((m) => sim.simulator.cacheDir.startsWith(m + '/')),
      `scene cache ${sim.simulator.cacheDir} is on a volume`,
    );

    assert.equal(gw.gateway.id, '', 'each replica derives its own id');
    assert.equal(gw.http.host, '0.0.0.0');
    assert.ok(
      strings(obj(service(doc, 'gateway')['healthcheck'], 'hc')['test'], 'test')
        .join(' ')
        .includes(`/dev/tcp/127.0.0.1/${gw.http.port} && printf 'GET /healthz `),
    );
    assert.equal(
      Number(obj(service(doc, 'gateway')['deploy'], 'deploy')['replicas']),
      // biome-ignore lint/suspicious/noUnnecessaryConditions: an index signature can miss (noUncheckedIndexedAccess; biome#11277)
      Number(shell['GATEWAYS'] ?? 1),
    );
  }
});

test('config/mosquitto.conf starts a real mosquitto', {
  ...needs('mosquitto'),
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-compose-'));
  const port = await freePort();
  // Same file, with what only differs outside the container: port, data directory, log target.
  const conf = read('config/mosquitto.conf')
    .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
    .replace(/^persistence_location .*$/m, `persistence_location ${dir}/`)
    .replace(/^log_dest .*$/m, 'log_dest none');
  writeFileSync(join(dir, 'mosquitto.conf'), conf);
  const p = spawn(mosquittoPath(), ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
  try {
    await Promise.race([
      waitForPort(port, 10_000),
      exited.then((code) => assert.fail(`mosquitto exited with ${code}`)),
    ]);
  } finally {
    p.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Dockerfile: node 20 on Debian, ffmpeg, .npmrc before npm ci, runtime deps only, non-root', () => {
  const lines = read('Dockerfile')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  const text = lines.join('\n');
  assert.match(lines[0]!, /^FROM node:20-bookworm-slim\b/);
  assert.match(text, /apt-get install -y --no-install-recommends ffmpeg/);
  const npmCi = lines.findIndex((l) => /npm ci\b/.test(l));
  const npmrc = lines.findIndex((l) => /^COPY .*\.npmrc/.test(l));
  assert.ok(npmrc >= 0 && npmCi > npmrc, '.npmrc is copied before npm ci (no CUDA download)');
  assert.match(lines[npmCi]!, /--omit=dev/);
  // --omit=dev is only right while what runs the CLI is a runtime dependency.
  const pkg = JSON.parse(read('package.json')) as { dependencies: Obj; devDependencies: Obj };
  assert.ok('tsx' in pkg.dependencies, 'tsx is a runtime dependency');
  assert.ok(!('typescript' in pkg.dependencies), 'typescript is dev only');
  assert.ok(
    lines.some((l) => /^USER (?!root\b|0\b)\S+/.test(l)),
    'runs as a non-root user',
  );
  assert.deepEqual(dockerEntrypoint(), ['node', ...NODE_FLAGS, 'bin/facegate.js']);
});

/** Whether .dockerignore keeps a path (relative, with /) out of the build context. */
function ignored(path: string, patterns: string[]): boolean {
  let out = false;
  for (const raw of patterns) {
    const neg = raw.startsWith('!');
    const glob = neg ? raw.slice(1) : raw;
    const re = new RegExp(
      '^' +
        glob
          .split('**')
          .map((part) =>
            part
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '[^/]*')
              .replace(/\?/g, '[^/]'),
          )
          .join('.*') +
        '(/.*)?$',
    );
    if (re.test(path)) out = !neg;
  }
  return out;
}

/** Every local file the CLI loads: static and dynamic imports, and new URL('./x', import.meta.url). */
function runtimeFiles(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  const spec = /(?:from\s+|import\s*\(\s*|import\s+|new URL\(\s*)'(\.{1,2}\/[^']+)'/g;
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!/\.(ts|js)$/.test(file)) continue;
    for (const m of read(file).matchAll(spec)) {
      const target = normalize(join(dirname(file), m[1]!));
      assert.ok(existsSync(join(root, target)), `${file} loads ${target}, which exists`);
      todo.push(target);
    }
  }
  return seen;
}

test('.dockerignore keeps out tests and caches, never what the CLI loads', () => {
  const patterns = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const p of [
    'node_modules',
    '.git',
    'test/watch.test.ts',
    '.facegate/scenes/x.h264',
    'results/a.json',
    '.env',
  ])
    assert.ok(ignored(p, patterns), `${p} is ignored`);
  for (const p of [
    'package.json',
    'package-lock.json',
    '.npmrc',
    'tsconfig.json',
    'assets/models/ultraface-rfb-320.onnx',
    '.env.example',
  ])
    assert.ok(!ignored(p, patterns), `${p} is in the image`);
  const files = runtimeFiles('bin/facegate.js');
  assert.ok(
    files.has('cli/main.ts') && files.has('gateway/index.ts'),
    'the import walk reached the commands',
  );
  for (const f of files)
    assert.ok(!ignored(f, patterns), `${f} is loaded at run time but ignored by .dockerignore`);
});

test('.env.example names exactly the variables docker-compose.yml reads, with its defaults', () => {
  const text = read('docker-compose.yml');
  const used = new Map<string, string>();
  for (const m of text.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g))
    used.set(m[1]!, m[2] ?? '');
  const example = new Map<string, string>();
  for (const l of read('.env.example').split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(l);
    if (m) example.set(m[1]!, m[2]!);
  }
  // COMPOSE_PROJECT_NAME is Compose's own: the project name, instead of a top-level `name:`.
  assert.equal(example.get('COMPOSE_PROJECT_NAME'), 'facegate');
  example.delete('COMPOSE_PROJECT_NAME');
  assert.deepEqual([...example.keys()].sort(), [...used.keys()].sort());
  for (const [k, v] of example)
    assert.equal(v, used.get(k), `${k} in .env.example equals the compose default`);
});
