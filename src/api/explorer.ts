// The API explorer: Swagger UI at /docs over this server's own OpenAPI document. Every file
// it loads comes from this server (@fastify/swagger-ui's bundled copy; no CDN, so it works
// offline), under a Content-Security-Policy that allows this server only.
//
// Auth: the page and its scripts hold no data and answer without a token, as the dashboard's
// files do; the document it reads (/docs/json, /docs/yaml) is /openapi.json's and needs the
// token exactly as /openapi.json does (auth.ts). The page sends the token the dashboard
// signed in with, so a signed-in browser can read the document and try requests.

import type { FastifySwaggerUiConfigOptions } from '@fastify/swagger-ui';
import type { Api } from './types.ts';

/** Where the explorer is served. */
export const EXPLORER_PREFIX = '/docs';

const CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  // Swagger UI sets styles inline as it renders.
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
].join('; ');

/**
 * Adds the dashboard's stored token (src/dashboard/app/api.ts, key `mainspring.token`) to
 * the explorer's requests that have none. Built with `Function` so its source is plain
 * browser JavaScript whatever compiles this file; @fastify/swagger-ui writes it into the page.
 */
const addStoredToken = new Function(
  'request',
  `var token = null;
  try { token = sessionStorage.getItem('mainspring.token') || localStorage.getItem('mainspring.token'); } catch (e) {}
  if (token && !request.headers.Authorization && !request.headers.authorization)
    request.headers.Authorization = 'Bearer ' + token;
  return request;`,
);

type Interceptor = NonNullable<FastifySwaggerUiConfigOptions['requestInterceptor']>;

/** Registers the explorer's page, files and document under /docs. */
export async function explorerRoutes(app: Api): Promise<void> {
  // Loaded only here: most processes never serve the explorer.
  const { default: swaggerUi } = await import('@fastify/swagger-ui');
  await app.register(swaggerUi, {
    routePrefix: EXPLORER_PREFIX,
    staticCSP: CSP,
    uiConfig: { deepLinking: true, requestInterceptor: addStoredToken as Interceptor },
    theme: { title: 'mainspring API' },
  });
}
