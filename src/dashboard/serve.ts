// Serves the built dashboard (dist/dashboard/assets, made by scripts/build-dashboard.ts):
// `/` and any `/assets/<file>`, from memory, gzipped when the client accepts it. Three
// small files read once at start; a static-file plugin would add a dependency for that.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

// The same relative path from src/dashboard (running from sources) and dist/dashboard (built).
const ASSETS = new URL('../../dist/dashboard/assets/', import.meta.url);

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

interface Asset {
  readonly type: string;
  readonly raw: Buffer;
  readonly gzip: Buffer | undefined;
}

function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(ASSETS)) return assets;
  for (const name of readdirSync(ASSETS)) {
    const type = TYPES[name.split('.').pop()!];
    if (!type) continue;
    const gz = new URL(`${name}.gz`, ASSETS);
    assets.set(name, {
      type,
      raw: readFileSync(new URL(name, ASSETS)),
      gzip: existsSync(gz) ? readFileSync(gz) : undefined,
    });
  }
  return assets;
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>mainspring</title>
<p>The dashboard is not built. Run <code>npm run build:dashboard</code> (or <code>npm install</code>) and reload.
The HTTP API is under <a href="/v1/runs">/v1</a>; see <a href="/openapi.json">/openapi.json</a>.</p>`;

/**
 * A Content-Security-Policy that lets the page talk only to this server: no CDN, no request
 * leaving the machine, no inline script.
 */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function dashboardRoutes(app: FastifyInstance): void {
  const assets = loadAssets();
  const send = (req: FastifyRequest, reply: FastifyReply, asset: Asset, cache: string) => {
    reply
      .header('content-type', asset.type)
      .header('cache-control', cache)
      .header('x-content-type-options', 'nosniff')
      .header('vary', 'accept-encoding');
    if (asset.gzip && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
      return reply.header('content-encoding', 'gzip').send(asset.gzip);
    }
    return reply.send(asset.raw);
  };
  const index = async (req: FastifyRequest, reply: FastifyReply) => {
    const page = assets.get('index.html');
    reply.header('content-security-policy', CSP);
    if (!page) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    // The page names hashed asset files, so it is the one thing that must never be stale.
    return send(req, reply, page, 'no-cache');
  };
  app.get('/', { schema: { hide: true } }, index);
  app.get('/index.html', { schema: { hide: true } }, index);
  app.get<{ Params: { file: string } }>('/assets/:file', { schema: { hide: true } }, async (req, reply) => {
    const asset = assets.get(req.params.file);
    if (!asset || req.params.file === 'index.html') {
      return reply.code(404).type('text/plain').send('no such dashboard file');
    }
    // Names carry a content hash: a new build has new names.
    return send(req, reply, asset, 'public, max-age=31536000, immutable');
  });
}
