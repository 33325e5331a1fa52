// Requests to a mainspring server over HTTP: what `--url` / MAINSPRING_URL selects.

import { setTimeout as sleep } from 'node:timers/promises';
import { MainspringError } from '../core/errors.ts';
import {
  type ApiRequest,
  type ApiResponse,
  pathWithQuery,
  type StreamResponse,
  type Transport,
} from './client.ts';

/** Checks `--url` once, before any request: a typo is a usage error naming the flag. */
export function parseServerUrl(raw: string, field: string): URL {
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {}
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new MainspringError(
      'E_VALIDATION',
      `${field} is ${JSON.stringify(raw)}; give the server's address, e.g. http://127.0.0.1:7400`,
      { details: { field, value: raw } },
    );
  }
  return url;
}

/** Times a request refused as overloaded is sent again, and the longest wait honoured. */
const OVERLOAD_RETRIES = 2;
const MAX_RETRY_WAIT_MS = 10_000;

/**
 * How long to wait before sending again, or null: only for a 503 E_OVERLOADED or
 * E_SHUTTING_DOWN with Retry-After, which the server sends before doing anything, so
 * even a POST is safe to repeat.
 */
function retryWaitMs(status: number, retryAfter: string | null, body: unknown): number | null {
  if (status !== 503 || retryAfter === null || !/^\d+$/.test(retryAfter.trim())) return null;
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  if (code !== 'E_OVERLOADED' && code !== 'E_SHUTTING_DOWN') return null;
  return Math.min(Number(retryAfter.trim()) * 1000, MAX_RETRY_WAIT_MS);
}

export class HttpTransport implements Transport {
  readonly target: string;
  readonly #base: string;
  readonly #headers: Record<string, string>;

  constructor(url: URL, token: string | undefined) {
    this.#base = url.href.replace(/\/+$/, '');
    this.target = this.#base;
    this.#headers = token ? { authorization: `Bearer ${token}` } : {};
  }

  async send(request: ApiRequest): Promise<ApiResponse> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.#fetch(request);
      const text = await res.text();
      let body: unknown = text;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {}
      }
      const wait = retryWaitMs(res.status, res.headers.get('retry-after'), body);
      if (wait === null || attempt >= OVERLOAD_RETRIES) return { status: res.status, body };
      await sleep(wait);
    }
  }

  async stream(request: ApiRequest, signal: AbortSignal): Promise<StreamResponse> {
    const res = await this.#fetch(request, signal);
    const body = res.body;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      if (body === null) return;
      for await (const c of body) yield c;
    }
    return { status: res.status, chunks: chunks() };
  }

  async close(): Promise<void> {}

  async #fetch(request: ApiRequest, signal?: AbortSignal): Promise<Response> {
    const url = `${this.#base}${pathWithQuery(request.path, request.query)}`;
    const hasBody = request.body !== undefined;
    try {
      return await fetch(url, {
        method: request.method,
        headers: { ...this.#headers, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
        ...(hasBody ? { body: JSON.stringify(request.body) } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new MainspringError(
        'E_API_UNREACHABLE',
        `cannot reach the mainspring server at ${this.#base} (${why}); check --url / MAINSPRING_URL and that \`mainspring start\` runs there`,
        { cause: err, details: { field: 'url', value: this.#base } },
      );
    }
  }
}
