// Sends the hostile scenario's requests byte for byte (node:http, so a bad percent-encoding
// reaches the server as written) with a deadline, and checks a refusal's shape:
// `{ "error": { "code", "message", "details"? } }` with a code from docs/errors.md.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import type { HostileRequest } from './hostile-gen.ts';

export type Answer =
  | {
      readonly kind: 'answered';
      readonly status: number;
      readonly contentType: string;
      readonly text: string;
    }
  | { readonly kind: 'hang' }
  | { readonly kind: 'dropped'; readonly error: string };

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** Sends `req` to `base` (http://host:port); no answer within `timeoutMs` is a hang. */
export function send(base: string, req: HostileRequest, timeoutMs: number): Promise<Answer> {
  const url = new URL(base);
  return new Promise<Answer>((resolve) => {
    let settled = false;
    const done = (a: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(a);
    };
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = req.body.length;
    let r: http.ClientRequest;
    try {
      r = http.request({
        agent,
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers,
      });
    } catch (err) {
      // Node refuses to send some paths at all (e.g. raw control characters): nothing to test.
      done({ kind: 'dropped', error: `client refused to send: ${(err as Error).message}` });
      return;
    }
    const timer = setTimeout(() => {
      r.destroy();
      done({ kind: 'hang' });
    }, timeoutMs);
    r.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        done({
          kind: 'answered',
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', (err) => done({ kind: 'dropped', error: err.message }));
    });
    r.on('error', (err) => done({ kind: 'dropped', error: err.message }));
    r.end(req.body);
  });
}

/** Every code docs/errors.md lists. */
export function documentedCodes(): Set<string> {
  const text = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
  return new Set([...text.matchAll(/^\|\s*`(E_[A-Z0-9_]+)`/gm)].map((m) => m[1]!));
}

/** Why a non-2xx answer is not in the one error shape, or null when it is. */
export function shapeProblem(
  a: { status: number; contentType: string; text: string },
  codes: Set<string>,
): string | null {
  if (!a.contentType.startsWith('application/json')) return `content-type ${JSON.stringify(a.contentType)}`;
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    return `body is not JSON: ${a.text.slice(0, 80)}`;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'body is not an object';
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'error')
    return `top-level keys ${JSON.stringify(keys)}, not ["error"]`;
  const e = (body as { error: unknown }).error as Record<string, unknown> | null;
  if (e === null || typeof e !== 'object') return 'error is not an object';
  const extra = Object.keys(e).filter((k) => !['code', 'message', 'details'].includes(k));
  if (extra.length > 0) return `error has extra keys ${JSON.stringify(extra)}`;
  if (typeof e['code'] !== 'string' || !codes.has(e['code']))
    return `code ${JSON.stringify(e['code'])} not in docs/errors.md`;
  if (typeof e['message'] !== 'string' || e['message'] === '') return 'message missing or empty';
  return null;
}

export function closeAgent(): void {
  agent.destroy();
}
