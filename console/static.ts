// The console's static files (console/public, jsmpg.js from node_modules): a fixed table, so no
// request path ever reaches the file system on its own.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const publicDir = fileURLToPath(new URL('./public/', import.meta.url));
const jsmpegFile = createRequire(import.meta.url).resolve('jsmpeg/jsmpg.js');

const files: Record<string, { file: string; type: string }> = {
  '/': { file: join(publicDir, 'index.html'), type: 'text/html; charset=utf-8' },
  '/index.html': { file: join(publicDir, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { file: join(publicDir, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/charts.js': { file: join(publicDir, 'charts.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: join(publicDir, 'style.css'), type: 'text/css; charset=utf-8' },
  '/vendor/jsmpg.js': { file: jsmpegFile, type: 'text/javascript; charset=utf-8' },
  '/login': { file: join(publicDir, 'login.html'), type: 'text/html; charset=utf-8' },
};
/** What a visitor without a session may fetch. */
export const publicPaths: ReadonlySet<string> = new Set(['/login', '/style.css']);

/** Serves `path` if it is one of the console's files (GET/HEAD); false when it is not. */
export function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  fail: (err: unknown) => void,
): boolean {
  const f = files[path];
  if (!((req.method === 'GET' || req.method === 'HEAD') && f)) return false;
  readFile(f.file).then((file) => {
    // jsmpg.js ends with `module.exports = jsmpeg` (its npm packaging): give it a module to write to.
    const body =
      path === '/vendor/jsmpg.js'
        ? Buffer.concat([
            Buffer.from('(function (module) {\n'),
            file,
            Buffer.from('\n})({ exports: {} });\n'),
          ])
        : file;
    res.writeHead(200, {
      'content-type': f.type,
      'cache-control': 'no-cache',
      'content-length': body.length,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }, fail);
  return true;
}
