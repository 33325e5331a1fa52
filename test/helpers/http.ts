// A mainspring app's HTTP API on a loopback port, for tests that go through a real socket;
// every server is closed after its test.

import { afterEach } from 'vitest';
import { type Api, buildApi, listenApi } from '../../src/api/server.ts';
import type { Mainspring } from '../../src/app.ts';

const apis: Api[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

/**
 * Serves `ms`'s API (1 MiB body limit) and returns its URL and a `call` that sends a JSON body
 * (a string as it is) and reads the JSON answer as `B`.
 */
export async function serveApi<B>(ms: Mainspring) {
  const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024 });
  apis.push(api);
  const { url } = await listenApi(api, { host: '127.0.0.1', port: 0 });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      ...(body !== undefined
        ? {
            body: typeof body === 'string' ? body : JSON.stringify(body),
            headers: { 'content-type': 'application/json' },
          }
        : {}),
    });
    return { status: res.status, body: (await res.json()) as B };
  };
  return { url, call };
}
