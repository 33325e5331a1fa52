// Requests to a mainspring server over HTTP: what `--url` / MAINSPRING_URL selects.

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
    const res = await this.#fetch(request);
    const text = await res.text();
    let body: unknown = text;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {}
    }
    return { status: res.status, body };
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
