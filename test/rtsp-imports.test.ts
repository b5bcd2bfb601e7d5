// rtsp/ is a library: it imports node: modules and its own files only, and the gateway reaches the
// protocol through it, never through simulator/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

test('rtsp/ imports only node: modules and files inside rtsp/', () => {
  const files = sources('rtsp');
  assert.ok(files.length >= 10, `${files.length} files`);
  const bad: string[] = [];
  for (const f of files)
    for (const spec of imports(f)) {
      if (spec.startsWith('node:')) continue;
      const target = spec.startsWith('.') ? relative(root, resolve(dirname(f), spec)) : spec;
      if (!target.startsWith('rtsp/')) bad.push(`${relative(root, f)} -> ${spec}`);
    }
  assert.deepEqual(bad, []);
});

test('gateway/ imports nothing from simulator/', () => {
  const bad = sources('gateway').flatMap((f) =>
    imports(f)
      .filter((s) => relative(root, resolve(dirname(f), s)).startsWith('simulator/'))
      .map((s) => `${relative(root, f)} -> ${s}`),
  );
  assert.deepEqual(bad, []);
});
