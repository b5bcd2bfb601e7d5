// The layout's promises, checked by walking every import: the protocol library and the contract
// sit below everything, the two sides never reach into each other, and the front ends (console,
// cli) only launch the sides through their entry points (#12).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = ['rtsp', 'contract', 'shared', 'config', 'simulator', 'gateway', 'console', 'cli', 'bench'];
/** The files other folders may import to start a side: its factory, nothing behind it. */
const ENTRY_POINTS = new Set(['gateway/index.ts', 'simulator/index.ts']);

interface Edge {
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

// Static imports, re-exports and dynamic import() with a literal specifier.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

function importsOf(file: string): Edge[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const edges: Edge[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const spec = match[1] ?? '';
    const to = spec.startsWith('.')
      ? relative(ROOT, resolve(ROOT, dirname(file), spec))
          .split(sep)
          .join('/')
      : spec;
    edges.push({ from: file.split(sep).join('/'), to });
  }
  return edges;
}

const edges = SOURCES.flatMap((dir) => sourceFiles(dir)).flatMap(importsOf);
const top = (path: string): string => path.split('/')[0] ?? '';
const isPackage = (to: string): boolean => !to.includes('/') || !SOURCES.includes(top(to));
const isOurs = (to: string): boolean => SOURCES.includes(top(to)) || to.startsWith('test/');

function violations(from: string, allowed: (e: Edge) => boolean): string[] {
  return edges.filter((e) => top(e.from) === from && !allowed(e)).map((e) => `${e.from} -> ${e.to}`);
}

test('the walk sees the whole tree', () => {
  // A broken walk would pass every rule below: make sure it found files and imports in every folder.
  for (const dir of SOURCES)
    assert.ok(
      edges.some((e) => top(e.from) === dir),
      `no imports found under ${dir}/`,
    );
});

test('rtsp/ imports only node: modules and itself', () => {
  const bad = violations('rtsp', (e) => e.to.startsWith('node:') || top(e.to) === 'rtsp');
  assert.deepEqual(bad, []);
});

// Two leaf modules of shared/ (named errors, one-line text) that import nothing themselves.
const LEAVES = new Set(['shared/errors.ts', 'shared/text.ts']);

test('contract/ imports only node:, zod, itself and the two leaves of shared/', () => {
  const bad = violations(
    'contract',
    (e) => e.to.startsWith('node:') || e.to === 'zod' || top(e.to) === 'contract' || LEAVES.has(e.to),
  );
  assert.deepEqual(bad, []);
  assert.deepEqual(
    edges.filter((e) => LEAVES.has(e.from)).map((e) => `${e.from} -> ${e.to}`),
    [],
    'the leaves import nothing',
  );
});

test('shared/ and config/ sit below the sides', () => {
  const below = new Set(['rtsp', 'contract', 'shared']);
  assert.deepEqual(
    violations('shared', (e) => !isOurs(e.to) || below.has(top(e.to))),
    [],
  );
  assert.deepEqual(
    violations('config', (e) => !isOurs(e.to) || below.has(top(e.to)) || top(e.to) === 'config'),
    [],
  );
});

test('gateway/ and simulator/ import nothing of each other', () => {
  assert.deepEqual(
    violations('gateway', (e) => top(e.to) !== 'simulator'),
    [],
  );
  assert.deepEqual(
    violations('simulator', (e) => top(e.to) !== 'gateway'),
    [],
  );
});

test('console/ and cli/ reach the sides only through their entry points', () => {
  const bad = ['console', 'cli'].flatMap((front) =>
    violations(
      front,
      (e) => isPackage(e.to) || !['gateway', 'simulator'].includes(top(e.to)) || ENTRY_POINTS.has(e.to),
    ),
  );
  assert.deepEqual(bad, []);
});
