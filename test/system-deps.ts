// The one place that knows the system packages facegate's tests and tools need (Debian names).
// Run as `npm test`'s pretest and by .ci/run: it checks each tool and, as root with apt, installs
// what is missing (one update, one install line); otherwise it exits with the one line to run.
// Tests import `missingTools` to fail (or, opted out, skip) with the same line.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Tool =
  | 'ffmpeg'
  | 'mosquitto'
  | 'mosquitto-clients'
  | 'gstreamer'
  | 'gst-rtsp-server-python'
  | 'openssl'
  | 'chromium'
  | 'git';

interface Requirement {
  /** Debian packages that provide the tool. */
  packages: readonly string[];
  present(): boolean;
}

/** Debian's own python: the gi bindings are installed for it, not for other pythons on the PATH. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

function onPath(name: string): boolean {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

function runs(cmd: string, args: readonly string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
  return r.status === 0;
}

const anyFile = (...paths: string[]): boolean => paths.some((p) => existsSync(p));

// Elements the tests' GStreamer pipelines use, with the package that ships each.
const GST_ELEMENTS: readonly (readonly [string, string])[] = [
  ['rtspsrc', 'gstreamer1.0-plugins-good'],
  ['rtph264depay', 'gstreamer1.0-plugins-good'],
  ['h264parse', 'gstreamer1.0-plugins-bad'],
  ['avdec_h264', 'gstreamer1.0-libav'],
  ['x264enc', 'gstreamer1.0-plugins-ugly'],
];

export const REQUIREMENTS: Readonly<Record<Tool, Requirement>> = {
  ffmpeg: { packages: ['ffmpeg'], present: () => onPath('ffmpeg') && onPath('ffprobe') },
  mosquitto: {
    packages: ['mosquitto'],
    present: () => anyFile('/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'),
  },
  'mosquitto-clients': {
    packages: ['mosquitto-clients'],
    present: () => onPath('mosquitto_sub') && onPath('mosquitto_pub'),
  },
  gstreamer: {
    packages: ['gstreamer1.0-tools', ...new Set(GST_ELEMENTS.map(([, pkg]) => pkg))],
    present: () =>
      onPath('gst-launch-1.0') && GST_ELEMENTS.every(([el]) => runs('gst-inspect-1.0', ['--exists', el])),
  },
  'gst-rtsp-server-python': {
    packages: ['python3-gi', 'gir1.2-gst-rtsp-server-1.0'],
    present: () =>
      existsSync(SYSTEM_PYTHON) &&
      runs(SYSTEM_PYTHON, [
        '-c',
        "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer",
      ]),
  },
  openssl: { packages: ['openssl'], present: () => onPath('openssl') },
  chromium: { packages: ['chromium'], present: () => anyFile('/usr/bin/chromium') },
  git: { packages: ['git'], present: () => onPath('git') },
};

const checked = new Map<Tool, boolean>();

/** The tools of `tools` that are absent (each checked once per process). */
export function missingTools(tools: readonly Tool[]): Tool[] {
  return tools.filter((t) => {
    let ok = checked.get(t);
    if (ok === undefined) {
      ok = REQUIREMENTS[t].present();
      checked.set(t, ok);
    }
    return !ok;
  });
}

export function installLine(tools: readonly Tool[]): string {
  const pkgs = [...new Set(tools.flatMap((t) => REQUIREMENTS[t].packages))];
  return `apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
}

const ALL = Object.keys(REQUIREMENTS) as Tool[];

function main(): number {
  const missing = missingTools(ALL);
  if (missing.length === 0) return 0;
  const line = installLine(missing);
  const canApt = process.getuid?.() === 0 && onPath('apt-get');
  if (!canApt) {
    console.error(`facegate: missing system tools (${missing.join(', ')}); install them: sudo ${line}`);
    return 3;
  }
  console.error(`facegate: installing missing system tools (${missing.join(', ')}): ${line}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another apt (a second checkout, unattended upgrades) may hold the lock: wait for it.
  const wait = ['-o', 'DPkg::Lock::Timeout=600'];
  const update = spawnSync('apt-get', [...wait, 'update', '-qq'], { stdio: 'inherit', env });
  const install =
    update.status === 0 &&
    spawnSync('sh', ['-c', `${line.replace('apt-get', `apt-get ${wait.join(' ')}`)} -qq >/dev/null`], {
      stdio: 'inherit',
      env,
    }).status === 0;
  checked.clear();
  const still = missingTools(ALL);
  if (!install || still.length > 0) {
    console.error(
      `facegate: could not install ${still.join(', ') || 'packages'}; run: ${installLine(still)}`,
    );
    return 3;
  }
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main();
