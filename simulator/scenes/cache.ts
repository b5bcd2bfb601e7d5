// On-disk cache of rendered clips: cacheDir/<hash>/ holds clip-NNN.h264|h265 and manifest.json.
// A render goes to cacheDir/<hash>.partial-<pid>-<random>/ and is renamed into place only after its
// manifest is written, so a killed render can never look complete.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import type { SceneClip, SceneSpec } from './types.ts';
import { fullSpec } from './mix.ts';

/** Bump when the output of a spec changes (filters, schedule, encoder settings, crops). */
export const RENDERER_VERSION = 4;

export const MANIFEST = 'manifest.json';

interface Manifest {
  rendererVersion: number;
  hash: string;
  spec: SceneSpec;
  /** `file` is relative to the cache directory of the spec. */
  clips: SceneClip[];
}

/** A hash of every field of the spec (defaults filled in), in sorted key order, and the renderer's version. */
export function specHash(spec: SceneSpec): string {
  const full = fullSpec(spec);
  const key = [
    RENDERER_VERSION,
    ...Object.keys(full)
      .sort()
      .map((k) => [k, full[k as keyof typeof full]]),
  ];
  return createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16);
}

/**
 * Unique per render: the pid says whether its owner is still alive, the suffix tells renders of one
 * process apart, and the host name says whose pid it is: replicas in containers share one cache
 * volume (docker-compose.yml) and each has its own pid numbers.
 */
export function partialDir(cacheDir: string, hash: string, pid: number, host = thisHost()): string {
  return join(cacheDir, `${hash}.partial-${pid}-${randomBytes(4).toString('hex')}@${host}`);
}

function thisHost(): string {
  return hostname().replace(/[^A-Za-z0-9.-]/g, '-') || 'localhost';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Another host's render untouched this long is taken for abandoned. */
const FOREIGN_STALE_MS = 3_600_000;

/**
 * Removes partial renders of this hash left by processes that are gone: on this host, when the pid
 * is dead; from another host (whose pids we cannot see), only when untouched for an hour.
 */
export async function removeStalePartials(cacheDir: string, hash: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(cacheDir);
  } catch {
    return;
  }
  const me = thisHost();
  for (const name of names) {
    const m = /^([0-9a-f]+)\.partial-(\d+)(?:-[0-9a-f]+)?(?:@([A-Za-z0-9.-]+))?$/.exec(name);
    if (!m || m[1] !== hash) continue;
    const path = join(cacheDir, name);
    const foreign = m[3] !== undefined && m[3] !== me;
    const stale = foreign
      ? await stat(path).then(
          (st) => Date.now() - st.mtimeMs > FOREIGN_STALE_MS,
          () => false,
        )
      : !isAlive(Number(m[2]));
    if (stale) await rm(path, { recursive: true, force: true });
  }
}

/** The cached clips of a spec, or undefined when missing or incomplete. Files come back absolute. */
export async function readCache(dir: string, hash: string, count: number): Promise<SceneClip[] | undefined> {
  let m: Manifest;
  try {
    m = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
  if (
    m.rendererVersion !== RENDERER_VERSION ||
    m.hash !== hash ||
    !Array.isArray(m.clips) ||
    m.clips.length !== count
  )
    return undefined;
  for (const c of m.clips) {
    try {
      if ((await stat(join(dir, c.file))).size === 0) return undefined;
    } catch {
      return undefined;
    }
  }
  return m.clips.map((c) => ({ ...c, file: join(dir, c.file) }));
}

/** Writes the manifest last (via a temp file), then moves the partial directory into place. */
export async function commitCache(
  partial: string,
  final: string,
  hash: string,
  spec: SceneSpec,
  clips: SceneClip[],
): Promise<void> {
  const manifest: Manifest = {
    rendererVersion: RENDERER_VERSION,
    hash,
    spec: { ...spec },
    clips: clips.map((c) => ({ ...c, file: basename(c.file) })),
  };
  const tmp = join(partial, `${MANIFEST}.tmp`);
  await writeFile(tmp, JSON.stringify(manifest));
  await rename(tmp, join(partial, MANIFEST));
  try {
    await rename(partial, final);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    if (await readCache(final, hash, clips.length)) {
      // Another process finished the same spec first: keep theirs.
      await rm(partial, { recursive: true, force: true });
      return;
    }
    // An invalid leftover (older renderer, a hand edit): replace it.
    await rm(final, { recursive: true, force: true });
    await rename(partial, final);
  }
}
