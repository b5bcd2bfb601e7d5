// Builds the effective configuration: defaults < YAML file < environment < command-line flags.
// This is the only module that reads process.env (callers pass it in).
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configSchema, secretPaths, type Config } from './schema.ts';
import { ConfigError as BaseConfigError } from '../shared/errors.ts';
import { oneLine, redactUrl } from '../shared/log.ts';

/** Every error of the loader: one line, credentials in URLs masked (values and keys are user input). */
class ConfigError extends BaseConfigError {
  constructor(message: string) {
    super(oneLine(redactUrl(message)));
  }
}

const isSecret = (path: string): boolean => secretPaths.some((s) => path === s || path.startsWith(s + '.'));

/**
 * A value for an error message: JSON, shortened; YAML aliases can make it circular. A secret is
 * never shown, nor a section holding one, nor a value that mentions one (broken YAML can fold
 * `password: x` into a neighbour).
 */
function show(path: string, value: unknown): string {
  if (isSecret(path)) return '***';
  // A section that holds a secret (mqtt, simulator, gateway) is described, not printed.
  if (secretPaths.some((s) => path === '' || s.startsWith(path + '.'))) {
    return value === null
      ? 'null'
      : Array.isArray(value)
        ? '(a list)'
        : typeof value === 'object'
          ? '(a mapping)'
          : `(a ${typeof value})`;
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return '(a circular value)';
  }
  if (text === undefined) return String(value);
  if (/pass/i.test(text)) return '(a value that mentions a password; not shown)';
  // Masked before shortening, so a cut cannot leave half a password without its '@'.
  text = redactUrl(text);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

/**
 * A key as the user wrote it: bare when plain, quoted when empty or odd. A YAML complex key
 * (`? {...}`) arrives as the text of a whole collection, which may hold a password: not shown.
 */
function keyName(k: string): string {
  if (/^[\w.-]+$/.test(k)) return k;
  if (/^[[{]|pass/i.test(k)) return '(a key made of a collection)';
  const q = JSON.stringify(k);
  return q.length > 60 ? `${q.slice(0, 60)}...` : q;
}

/** 'kind': a tagged union's bare kind, or its whole mapping as JSON. */
type Leaf = 'number' | 'boolean' | 'string' | 'json' | 'kind';
type Tree = { [k: string]: unknown };

export interface ConfigInput {
  /** YAML file named by --config. */
  file?: string | undefined;
  /** The process environment (FACEGATE_* and the short aliases). */
  env?: Record<string, string | undefined>;
  /** `path=value` pairs from flags, applied last in order. */
  sets?: readonly string[];
}

/** Short environment names users already know from docker-compose files. */
export const envAliases: Readonly<Record<string, string>> = {
  CAMERAS: 'city.cameras',
  GATEWAYS: 'city.gateways',
  MQTT_URL: 'mqtt.url',
};

function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (;;) {
    const def = cur.def as { type: string; innerType?: z.ZodType; in?: z.ZodType; out?: z.ZodType };
    if ((def.type === 'default' || def.type === 'prefault' || def.type === 'optional') && def.innerType)
      cur = def.innerType;
    // A preprocess (a transform piped into the schema) is read as the schema it feeds.
    else if (def.type === 'pipe' && def.in?.def.type === 'transform' && def.out) cur = def.out;
    else if (def.type === 'pipe' && def.in) cur = def.in;
    else return cur;
  }
}

/** Every leaf of the schema with its dotted path and how to read it from a string. */
export function schemaLeaves(schema: z.ZodType = configSchema, prefix = ''): Map<string, Leaf> {
  const out = new Map<string, Leaf>();
  const s = unwrap(schema);
  if (s instanceof z.ZodDiscriminatedUnion) {
    // A tagged union (gateway.ingest): the bare path takes a kind (shorthand), then every key of
    // every kind; the schema refuses a key that the chosen kind does not have.
    out.set(prefix, 'kind');
    for (const option of s.options as z.ZodType[])
      for (const [p, t] of schemaLeaves(option, prefix)) if (!out.has(p)) out.set(p, t);
    return out;
  }
  if (s instanceof z.ZodObject) {
    for (const [k, v] of Object.entries(s.shape as Record<string, z.ZodType>)) {
      for (const [p, t] of schemaLeaves(v, prefix ? `${prefix}.${k}` : k)) out.set(p, t);
    }
    return out;
  }
  const t = s.def.type;
  out.set(
    prefix,
    t === 'number'
      ? 'number'
      : t === 'boolean'
        ? 'boolean'
        : t === 'string' || t === 'enum'
          ? 'string'
          : 'json',
  );
  return out;
}

/** The leaves of one kind of the tagged union at `path` (undefined when there is none). */
function unionOptionLeaves(path: readonly string[], kind: string): Map<string, Leaf> | undefined {
  let cur: z.ZodType = configSchema;
  for (const p of path) {
    const s = unwrap(cur);
    if (!(s instanceof z.ZodObject)) return undefined;
    const next = (s.shape as Record<string, z.ZodType | undefined>)[p];
    if (!next) return undefined;
    cur = next;
  }
  const u = unwrap(cur);
  if (!(u instanceof z.ZodDiscriminatedUnion)) return undefined;
  for (const option of u.options as z.ZodType[]) {
    const o = unwrap(option);
    const lit =
      o instanceof z.ZodObject ? unwrap((o.shape as Record<string, z.ZodType>)['kind']!) : undefined;
    if (lit instanceof z.ZodLiteral && lit.values.has(kind)) return schemaLeaves(option, path.join('.'));
  }
  return undefined;
}

/** FACEGATE_GATEWAY_DETECTOR_THREADS <-> gateway.detectorThreads */
export function envName(path: string): string {
  return (
    'FACEGATE_' +
    path
      .split('.')
      .map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
      .join('_')
  );
}

function coerce(path: string, leaf: Leaf, raw: string, source: string): unknown {
  const shown = show(path, raw);
  switch (leaf) {
    case 'string':
      return raw;
    case 'kind':
      return raw.trimStart().startsWith('{') ? coerce(path, 'json', raw, source) : raw;
    case 'number': {
      const n = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(n)) throw new ConfigError(`${path}: ${shown} (from ${source}) is not a number`);
      return n;
    }
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(raw)) return true;
      if (/^(false|0|no|off)$/i.test(raw)) return false;
      throw new ConfigError(`${path}: ${shown} (from ${source}) is not a boolean (true or false)`);
    case 'json':
      try {
        return JSON.parse(raw);
      } catch {
        throw new ConfigError(`${path}: ${shown} (from ${source}) is not valid JSON`);
      }
  }
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = tree;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    // A tagged union given as its bare kind (`ingest: ffmpeg`) keeps that kind under its options.
    if (typeof next === 'string') cur[p] = { kind: next };
    else if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[p] = {};
    cur = cur[p] as Tree;
  }
  const last = parts[parts.length - 1]!;
  const prev = cur[last];
  // A bare kind over options already given (file, then env) changes the kind, keeps the options.
  if (typeof value === 'string' && typeof prev === 'object' && prev !== null && !Array.isArray(prev))
    (prev as Tree)['kind'] = value;
  else cur[last] = value;
}

function getPath(tree: unknown, path: (string | number | symbol)[]): unknown {
  let cur = tree;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string | number | symbol, unknown>)[p];
  }
  return cur;
}

function readFile(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: false, logLevel: 'error' });
  } catch (err) {
    // yaml quotes the offending text after a colon ("...extra characters: |hunter2"): a password
    // on a broken line must not reach the terminal, so keep the reason and give the position.
    const msg = (err instanceof Error ? err.message.split('\n')[0]! : String(err)).split(': ')[0];
    const pos = (err as { pos?: [number, number] }).pos?.[0];
    const before = pos === undefined ? undefined : text.slice(0, pos).split('\n');
    const at = before ? ` at line ${before.length}, column ${before[before.length - 1]!.length + 1}` : '';
    throw new ConfigError(`config file ${file} is not valid YAML: ${msg}${at}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new ConfigError(`config file ${file} must hold a mapping at the top`);
  return doc as Tree;
}

export function loadConfig(input: ConfigInput = {}): Config {
  const leaves = schemaLeaves();
  const sources = new Map<string, string>();
  const tree: Tree = input.file ? readFile(input.file) : {};
  const fileLabel = input.file ? `file ${input.file}` : 'file';

  const apply = (path: string, raw: string, source: string): void => {
    const leaf = leaves.get(path);
    if (!leaf) {
      const known = [...leaves.keys()].filter((k) => k.split('.')[0] === path.split('.')[0]);
      const hint = known.length
        ? `; known keys: ${known.join(', ')}`
        : `; known sections: ${[...new Set([...leaves.keys()].map((k) => k.split('.')[0]))].join(', ')}`;
      throw new ConfigError(`unknown config key ${keyName(path)} (from ${source})${hint}`);
    }
    setPath(tree, path, coerce(path, leaf, raw, source));
    sources.set(path, source);
  };

  const env = input.env ?? {};
  for (const path of leaves.keys()) {
    const name = envName(path);
    const v = env[name];
    if (v !== undefined && v !== '') apply(path, v, `env ${name}`);
  }
  for (const [alias, path] of Object.entries(envAliases)) {
    const v = env[alias];
    // A FACEGATE_ name wins over its short alias when both are given.
    if (v !== undefined && v !== '' && env[envName(path)] === undefined) apply(path, v, `env ${alias}`);
  }
  for (const s of input.sets ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set takes path=value, got ${JSON.stringify(s)}`);
    apply(s.slice(0, eq).trim(), s.slice(eq + 1), `--set ${s.slice(0, eq).trim()}`);
  }

  const res = configSchema.safeParse(tree);
  if (res.success) return res.data;
  const issue = res.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  // The nearest key that a flag or env var set, e.g. gateway.cameras for gateway.cameras.0.url.
  const setBy = [...sources.keys()]
    .filter((k) => path === k || path.startsWith(k + '.'))
    .sort((a, b) => b.length - a.length)[0];
  let source = (setBy && sources.get(setBy)) ?? fileLabel;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.` : '') + keyName(k));
    const flagged = issue.keys.map((k) => sources.get(path ? `${path}.${k}` : k)).find((x) => x);
    if (flagged) source = flagged;
    // Inside a tagged union, only the keys of the chosen kind are known.
    const kind = getPath(tree, [...issue.path, 'kind']);
    const kindLeaves = typeof kind === 'string' ? unionOptionLeaves(issue.path.map(String), kind) : undefined;
    const known = [...(kindLeaves ?? leaves).keys()]
      .filter((k) => (path ? k.startsWith(path + '.') : true))
      .map((k) => (path ? k : k.split('.')[0]));
    const hint = known.length ? `; known: ${[...new Set(known)].join(', ')}` : '';
    throw new ConfigError(`unknown config key ${keys.join(', ')} (from ${source})${hint}`);
  }
  // A bare kind (`gateway.ingest=node`) has no `kind` key of its own: show the kind given.
  const parent = getPath(tree, issue.path.slice(0, -1));
  const value = getPath(tree, issue.path) ?? (typeof parent === 'string' ? parent : undefined);
  const allowed = issue.message.replace(/^Invalid input: /, '');
  throw new ConfigError(`${path}: ${show(path, value)} (from ${source}) is not allowed: ${allowed}`);
}

/** The defaults alone. */
export function defaultConfig(): Config {
  return configSchema.parse({});
}
