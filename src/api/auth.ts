// Bearer-token auth. With MAINSPRING_API_TOKEN set, every API route needs
// `Authorization: Bearer <token>`; compared in constant time. A second, read-only token
// (MAINSPRING_API_READ_TOKEN) may read everything and change nothing: for a dashboard on
// a wall screen or a colleague who should look, not act.

import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MainspringError } from '../core/errors.ts';
import { sendError } from './errors.ts';

/**
 * What a request may do: `full` (the API token, or no auth configured), `read` (the read-only
 * token) or `none` (no valid token: only public paths and /v1/access answer).
 */
export type Access = 'full' | 'read' | 'none';

declare module 'fastify' {
  interface FastifyRequest {
    access: Access;
  }
}

/**
 * The health check, the dashboard's own files and the API explorer's page and files (no data
 * in them) answer without a token. The explorer's document (/docs/json, /docs/yaml) is
 * /openapi.json's and needs one, as /openapi.json does.
 */
function isPublic(path: string): boolean {
  return (
    path === '/healthz' ||
    path === '/' ||
    path === '/index.html' ||
    path.startsWith('/assets/') ||
    path === '/docs' ||
    path === '/docs/' ||
    path.startsWith('/docs/static/')
  );
}

/** Requests that change nothing although they are POSTs: long polls for an outcome. */
function isRead(method: string, path: string): boolean {
  return method === 'GET' || method === 'HEAD' || (method === 'POST' && path.endsWith('/wait'));
}

/** Answers every caller with what its token may do (see routes/changes.ts). */
export const ACCESS_PATH = '/v1/access';

const digest = (s: string) => createHash('sha256').update(s).digest();
// Hashing first gives equal-length buffers, so timingSafeEqual never leaks the length.
const same = (given: Buffer, expected: Buffer | undefined) =>
  expected !== undefined && timingSafeEqual(given, expected);

export interface Tokens {
  readonly token: string;
  readonly readToken?: string | undefined;
}

export function bearerAuth({ token, readToken }: Tokens) {
  const full = digest(token);
  const read = readToken ? digest(readToken) : undefined;
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const path = req.url.split('?')[0]!;
    if (isPublic(path)) return;
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const given = match ? digest(match[1]!.trim()) : undefined;
    if (given && same(given, full)) return;
    // The dashboard asks who it is before it has a token; a 401 there would be a console error.
    if (path === ACCESS_PATH && !(given && same(given, read))) {
      req.access = 'none';
      return;
    }
    if (given && same(given, read)) {
      req.access = 'read';
      if (isRead(req.method, path)) return;
      await sendError(
        reply,
        new MainspringError(
          'E_FORBIDDEN',
          `${req.method} ${path} changes stored state and this is the read-only token (MAINSPRING_API_READ_TOKEN); use MAINSPRING_API_TOKEN`,
        ),
      );
      return;
    }
    await sendError(
      reply,
      new MainspringError(
        'E_UNAUTHORIZED',
        match
          ? 'the API token is wrong'
          : 'this server requires an API token: send Authorization: Bearer <MAINSPRING_API_TOKEN>',
      ),
    );
  };
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h.startsWith('::ffff:127.');
}

/** Refuses to expose an unauthenticated API beyond this machine. */
export function assertSafeBinding(host: string, token: string | undefined): void {
  if (token || isLoopback(host)) return;
  throw new MainspringError(
    'E_API_TOKEN_REQUIRED',
    `refusing to listen on ${host} without an API token; set MAINSPRING_API_TOKEN, or bind to 127.0.0.1 with --host`,
    { details: { field: 'host', value: host } },
  );
}

/** A read-only token means nothing without the full one (the API would be open anyway). */
export function assertTokens(token: string | undefined, readToken: string | undefined): void {
  if (!readToken) return;
  if (!token) {
    throw new MainspringError(
      'E_CONFIG_INVALID',
      'MAINSPRING_API_READ_TOKEN is set but MAINSPRING_API_TOKEN is not: without a full token the API is open to everyone on this machine; set MAINSPRING_API_TOKEN too, or unset the read-only token',
      { details: { field: 'MAINSPRING_API_READ_TOKEN' } },
    );
  }
  if (readToken === token) {
    throw new MainspringError(
      'E_CONFIG_INVALID',
      'MAINSPRING_API_READ_TOKEN equals MAINSPRING_API_TOKEN, so it would grant full access; choose a different read-only token',
      { details: { field: 'MAINSPRING_API_READ_TOKEN' } },
    );
  }
}
