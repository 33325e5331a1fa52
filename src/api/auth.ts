// Bearer-token auth. With MAINSPRING_API_TOKEN set, every route but the health
// check needs `Authorization: Bearer <token>`; compared in constant time.

import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MainspringError } from '../core/errors.ts';
import { sendError } from './errors.ts';

const PUBLIC_PATHS = new Set(['/healthz']);

const digest = (s: string) => createHash('sha256').update(s).digest();

export function bearerAuth(token: string) {
  const expected = digest(token);
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (PUBLIC_PATHS.has(req.url.split('?')[0]!)) return;
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // Hashing first gives equal-length buffers, so timingSafeEqual never leaks the length.
    if (match && timingSafeEqual(digest(match[1]!.trim()), expected)) return;
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
