// A one-line progress bar on a terminal; log lines elsewhere.
import type { Logger } from '../shared/log.ts';

export function progressReporter(
  what: string,
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  log: Logger,
): (done: number, total: number) => void {
  let lastLogged = -1;
  return (done, total) => {
    const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
    if (stream.isTTY) {
      const width = 30;
      const fill = Math.round((pct / 100) * width);
      stream.write(
        `\r${what} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${pct}%${pct === 100 ? '\n' : ''}`,
      );
    } else if (pct >= lastLogged + 25 || (pct === 100 && lastLogged !== 100)) {
      lastLogged = pct;
      log.info({ done, total, pct }, what);
    }
  };
}
