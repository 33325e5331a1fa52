// Requests to an API built in this process over the store itself: what a command without
// `--url` uses. The store is opened as a client ('read': the connection refuses writes), so
// nothing is migrated and no definition of the local config is stored.

import { type Api, buildApi } from '../api/server.ts';
import { type CreateMainspringOptions, createMainspring, type Mainspring } from '../app.ts';
import type { ApiRequest, ApiResponse, StreamResponse, Transport } from './client.ts';
import { pathWithQuery } from './client.ts';

export class LocalTransport implements Transport {
  readonly target: string;
  readonly #ms: Mainspring;
  readonly #api: Api;

  private constructor(ms: Mainspring, api: Api) {
    this.#ms = ms;
    this.#api = api;
    this.target = ms.store.url;
  }

  static async open(
    options: CreateMainspringOptions & { access: 'client' | 'read' },
  ): Promise<LocalTransport> {
    const ms = await createMainspring(options);
    try {
      // No token and no listening socket: requests come only from this process.
      const api = await buildApi({ ...ms, bodyLimit: 64 * 1024 * 1024 });
      return new LocalTransport(ms, api);
    } catch (err) {
      await ms.close();
      throw err;
    }
  }

  async send(request: ApiRequest): Promise<ApiResponse> {
    const res = await this.#api.inject({
      method: request.method,
      url: pathWithQuery(request.path, request.query),
      ...(request.body !== undefined ? { payload: request.body as object } : {}),
    });
    let body: unknown = res.body;
    if (res.body !== '') {
      try {
        body = JSON.parse(res.body);
      } catch {}
    }
    return { status: res.statusCode, body };
  }

  async stream(request: ApiRequest, signal: AbortSignal): Promise<StreamResponse> {
    const res = await this.#api.inject({
      method: request.method,
      url: pathWithQuery(request.path, request.query),
      payloadAsStream: true,
      signal,
    });
    return { status: res.statusCode, chunks: res.stream() };
  }

  async close(): Promise<void> {
    await this.#api.close();
    await this.#ms.close();
  }
}
