// CORS: off unless `api.cors.origins` lists origins. A request from a listed origin gets the
// Access-Control-* headers (its preflight answered before auth, which a browser's preflight
// cannot pass: it carries no Authorization header); from any other origin, none at all.

import type { Api, CorsOptions } from './types.ts';

/** Registers @fastify/cors for `options.origins`; call before the auth hook is added. */
export async function registerCors(app: Api, options: CorsOptions): Promise<void> {
  const allowed = new Set(options.origins);
  const { default: cors } = await import('@fastify/cors');
  await app.register(cors, {
    // false: no header at all for an origin not listed (an array would still send some).
    origin: (origin, done) => done(null, origin !== undefined && allowed.has(origin) ? origin : false),
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID'],
    exposedHeaders: ['Retry-After'],
    // Browsers cache a preflight this long (Chrome caps it at 2 h).
    maxAge: 600,
    // A bare OPTIONS from a listed origin gets the headers, not a text/plain 400 outside the one shape.
    strictPreflight: false,
  });
}
