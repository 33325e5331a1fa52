// Requests to an API built in this process over the store itself: what a command without
// `--url` uses. The store is opened as a client ('read': the connection refuses writes), so
// nothing is migrated and no definition of the local config is stored.

import { type Api, buildApi, type RouteGroup, routeGroupsFor } from '../api/server.ts';
import { type CreateMainspringOptions, createMainspring, type Mainspring } from '../app.ts';
import type { ApiRequest, ApiResponse, StreamResponse, Transport } from './client.ts';
import { pathWithQuery } from './client.ts';

export class LocalTransport implements Transport {
  readonly target: string;
  readonly #ms: Mainspring;
  #api: { api: Api; groups: ReadonlySet<RouteGroup> } | null = null;

  private constructor(ms: Mainspring) {
    this.#ms = ms;
    this.target = ms.store.url;
  }

  static async open(
    options: CreateMainspringOptions & { access: 'client' | 'read' },
  ): Promise<LocalTransport> {
    return new LocalTransport(await createMainspring(options));
  }

  async send(request: ApiRequest): Promise<ApiResponse> {
    const api = await this.#apiFor(request.path);
    const res = await api.inject({
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
    const api = await this.#apiFor(request.path);
    const res = await api.inject({
      method: request.method,
      url: pathWithQuery(request.path, request.query),
      payloadAsStream: true,
      signal,
    });
    return { status: res.statusCode, chunks: res.stream() };
  }

  async close(): Promise<void> {
    await this.#api?.api.close();
    await this.#ms.close();
  }

  /**
   * The API with the routes `path` needs. Only those are built (compiling every route's
   * schemas would cost a command ~150 ms); a command that reaches another group, as
   * `invoke --wait` does, rebuilds once with both.
   */
  async #apiFor(path: string): Promise<Api> {
    const needed = routeGroupsFor(path);
    const built = this.#api;
    if (built !== null && needed.every((g) => built.groups.has(g))) return built.api;
    const groups = new Set([...(built?.groups ?? []), ...needed]);
    await built?.api.close();
    this.#api = null;
    // No token and no listening socket: requests come only from this process.
    const api = await buildApi({ ...this.#ms, bodyLimit: 64 * 1024 * 1024, routes: [...groups] });
    this.#api = { api, groups };
    return api;
  }
}
