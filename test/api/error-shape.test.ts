// Every refusal the server makes, the framework's and Node's HTTP parser's included, answers
// `{ "error": { "code", "message", "details" } }` with a code from the catalogue whose status
// is the one sent, and none is a 500. Real HTTP over loopback; malformed requests go over a
// raw socket, as no well-behaved client would send them.

import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Api, buildApi, listenApi, MAX_PARAM_LENGTH } from '../../src/api/server.ts';
import { ERROR_CODES } from '../../src/core/errors.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import { defineWorkflow } from '../../src/workflow/define.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture } from '../helpers/backends.ts';

const apis: Api[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `request` as it is and reads one response (until its Content-Length, or the close). */
function raw(port: number, request: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const parse = (): RawResponse | null => {
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return null;
      const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const length = Number(headers['content-length'] ?? Number.NaN);
      const body = data.subarray(end + 4);
      if (Number.isFinite(length) && body.length < length) return null;
      return { status: Number(statusLine!.split(' ')[1]), headers, body: body.toString('utf8') };
    };
    const done = () => {
      const res = parse();
      socket.destroy();
      if (res) resolve(res);
      else reject(new Error(`no complete response; got ${JSON.stringify(data.toString('latin1'))}`));
    };
    socket.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      const res = parse();
      if (res && res.headers['content-length'] !== undefined) done();
    });
    socket.on('close', done);
    // The server may close as soon as it has answered, before all of a long request is written.
    socket.on('error', () => {});
    socket.write(request);
  });
}

/** The one error shape, with a catalogued code whose status is the one sent. */
function expectShape(res: { status: number; body: string; headers?: Record<string, string> }, code: string) {
  expect(res.status).toBeLessThan(500);
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    throw new Error(`HTTP ${res.status} answered a body that is not JSON: ${res.body.slice(0, 300)}`);
  }
  expect(body, `HTTP ${res.status}: ${res.body.slice(0, 300)}`).toEqual({
    error: expect.objectContaining({ code, message: expect.any(String) }),
  });
  const error = (body as { error: Record<string, unknown> }).error;
  expect(Object.keys(error).every((k) => ['code', 'message', 'details'].includes(k))).toBe(true);
  expect(Object.hasOwn(ERROR_CODES, code)).toBe(true);
  expect(ERROR_CODES[code as keyof typeof ERROR_CODES]).toBe(res.status);
  if (res.headers) expect(res.headers['content-type']).toMatch(/^application\/json/);
}

async function setup(backend: BackendFixture) {
  const { ms } = await fakeApp(backend, {
    queues: [defineQueue({ name: 'orders' })],
    functions: [defineFunction({ name: 'echo', handler: (input: unknown) => input })],
    workflows: [defineWorkflow({ name: 'flow', handler: async () => 1 })],
  });
  const api = await buildApi({ ...ms, bodyLimit: 64 * 1024 });
  apis.push(api);
  const { url, port } = await listenApi(api, { host: '127.0.0.1', port: 0 });
  const call = async (method: string, path: string, init: { body?: string; type?: string } = {}) => {
    const res = await fetch(`${url}${path}`, {
      method,
      ...(init.body !== undefined
        ? { body: init.body, headers: { 'content-type': init.type ?? 'application/json' } }
        : {}),
    });
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      headers[k] = v;
    });
    return { status: res.status, headers, body: await res.text() };
  };
  return { api, port, call };
}

const send = (line: string, headers: string[] = [], body = '') =>
  `${line}\r\nHost: 127.0.0.1\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${body}`;

describe.each(BACKENDS)('error shape on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('answers malformed HTTP from the parser in the one shape', async () => {
    const { port } = await setup(backend);
    const json = 'Content-Type: application/json';
    const cases: [string, string | Buffer, number, string][] = [
      ['bad percent-encoding', send('GET /v1/tasks/%E0%A4%A HTTP/1.1'), 400, 'E_BAD_REQUEST'],
      ['bad percent-encoding in a POST', send('POST /v1/queues/%zz/messages HTTP/1.1'), 400, 'E_BAD_REQUEST'],
      [
        'a 100,000-character URL',
        send(`GET /v1/tasks/${'a'.repeat(100_000)} HTTP/1.1`),
        431,
        'E_HEADERS_TOO_LARGE',
      ],
      [
        'a 40 KiB header',
        send('GET /v1/queues HTTP/1.1', [`X-Big: ${'b'.repeat(40_000)}`]),
        431,
        'E_HEADERS_TOO_LARGE',
      ],
      [
        'a path parameter over the router limit',
        send(`GET /v1/tasks/${'a'.repeat(MAX_PARAM_LENGTH + 1)} HTTP/1.1`),
        414,
        'E_URI_TOO_LONG',
      ],
      [
        'a Content-Length that is not a number',
        send('POST /v1/queues/orders/messages HTTP/1.1', [json, 'Content-Length: abc'], '{}'),
        400,
        'E_BAD_REQUEST',
      ],
      [
        'two different Content-Lengths',
        send(
          'POST /v1/queues/orders/messages HTTP/1.1',
          [json, 'Content-Length: 2', 'Content-Length: 3'],
          '{}',
        ),
        400,
        'E_BAD_REQUEST',
      ],
      [
        'Content-Length with chunked encoding',
        send(
          'POST /v1/queues/orders/messages HTTP/1.1',
          [json, 'Content-Length: 2', 'Transfer-Encoding: chunked'],
          '2\r\n{}\r\n0\r\n\r\n',
        ),
        400,
        'E_BAD_REQUEST',
      ],
      [
        'a bad chunk size',
        send(
          'POST /v1/queues/orders/messages HTTP/1.1',
          [json, 'Transfer-Encoding: chunked'],
          'zz\r\n{}\r\n0\r\n\r\n',
        ),
        400,
        'E_BAD_REQUEST',
      ],
      ['a request line that is not HTTP', 'HELLO THERE\r\n\r\n', 400, 'E_BAD_REQUEST'],
      [
        'a header line without a colon',
        send('GET /v1/queues HTTP/1.1', ['NoColonHere']),
        400,
        'E_BAD_REQUEST',
      ],
      ['HTTP/1.1 without Host', 'GET /v1/queues HTTP/1.1\r\n\r\n', 400, 'E_BAD_REQUEST'],
      ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 404, 'E_NOT_FOUND'],
    ];
    for (const [name, request, status, code] of cases) {
      const res = await raw(port, request);
      expect(res.status, name).toBe(status);
      expectShape(res, code);
    }
    // An expectation the server does not know is ignored, not answered with Node's empty 417.
    const expecting = await raw(port, send('GET /v1/queues HTTP/1.1', ['Expect: the-unexpected']));
    expect(expecting.status).toBe(200);
    expect(JSON.parse(expecting.body)).toMatchObject({
      queues: expect.arrayContaining([expect.objectContaining({ name: 'orders' })]),
    });
  });

  it_('answers a request that timed out in the one shape (Node reports it as a client error)', async () => {
    const { api, port } = await setup(backend);
    // Node's 408 comes from its header timeout (a minute), checked every 30 s: raise the same
    // error it raises on a real connection of ours rather than wait for it.
    const accepted = new Promise<Socket>((resolve) => api.server.once('connection', resolve));
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
    });
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write('GET /v1/queues HTTP/1.1\r\nHost: x\r\n');
    const serverSide = await accepted;
    api.server.emit(
      'clientError',
      Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }),
      serverSide,
    );
    await closed;
    const [head, body = ''] = data.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 408 /);
    expectShape({ status: 408, body }, 'E_REQUEST_TIMEOUT');
  });

  it_('answers hostile bodies, queries and paths in the one shape, never with a 500', async () => {
    const { call } = await setup(backend);
    const cases: [string, string, { body?: string; type?: string }, number, string][] = [
      ['POST', '/v1/queues/orders/messages', { body: '{"body": 1' }, 400, 'E_VALIDATION'],
      ['POST', '/v1/queues/orders/messages', { body: '' }, 400, 'E_VALIDATION'],
      ['POST', '/v1/queues/orders/messages', { body: 'null' }, 400, 'E_VALIDATION'],
      ['POST', '/v1/queues/orders/messages', { body: '[]' }, 400, 'E_VALIDATION'],
      [
        'POST',
        '/v1/queues/orders/messages',
        { body: '{"__proto__": {"x": 1}, "body": 1}' },
        400,
        'E_VALIDATION',
      ],
      [
        'POST',
        '/v1/queues/orders/messages',
        { body: '{"body": 1}', type: 'application/xml' },
        415,
        'E_UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'POST',
        '/v1/queues/orders/messages',
        { body: `{"body": "${'x'.repeat(70_000)}"}` },
        413,
        'E_PAYLOAD_TOO_LARGE',
      ],
      // PostgreSQL cannot store U+0000 in text: refused up front, naming the field, on both backends.
      ['GET', '/v1/tasks/a%00b', {}, 400, 'E_VALIDATION'],
      ['GET', '/v1/runs/%00', {}, 400, 'E_VALIDATION'],
      ['POST', '/v1/executions/%00/stop', { body: '{}' }, 400, 'E_VALIDATION'],
      ['GET', '/v1/runs?function=a%00', {}, 400, 'E_VALIDATION'],
      ['GET', '/v1/functions/echo%00/logs', {}, 400, 'E_VALIDATION'],
      ['GET', '/v1/queues/orders/dlq?limit=1&limit=2', {}, 400, 'E_VALIDATION'],
      [
        'POST',
        '/v1/queues/orders/messages',
        { body: '{"body": 1, "delay": 99999999999999999999}' },
        400,
        'E_MESSAGE_INVALID',
      ],
      [
        'POST',
        '/v1/queues/orders/messages',
        { body: '{"body": 1, "delay": "99999999999999d"}' },
        400,
        'E_MESSAGE_INVALID',
      ],
      ['PUT', '/v1/queues', { body: '{}' }, 404, 'E_NOT_FOUND'],
      ['OPTIONS', '/v1/queues', {}, 404, 'E_NOT_FOUND'],
    ];
    for (const [method, path, init, status, code] of cases) {
      const res = await call(method, path, init);
      expect(res.status, `${method} ${path} ${init.body?.slice(0, 40) ?? ''}: ${res.body}`).toBe(status);
      expectShape(res, code);
    }
    const nul = JSON.parse((await call('GET', '/v1/tasks/a%00b')).body) as {
      error: { message: string; details: { field: string } };
    };
    expect(nul.error.message).toMatch(/params\.id/);
    expect(nul.error.details).toEqual(expect.objectContaining({ field: 'params.id' }));
    const proto = JSON.parse(
      (await call('POST', '/v1/queues/orders/messages', { body: '{"__proto__": {}}' })).body,
    );
    expect(proto.error.message).toMatch(/__proto__/);
  });

  it_('refuses a NUL character in a stored text field of a body in the one shape', async () => {
    const { call } = await setup(backend);
    for (const [path, body] of [
      ['/v1/queues/orders/messages', '{"body": 1, "dedupKey": "a\\u0000"}'],
      ['/v1/locks/nightly', '{"ttl": 1000, "owner": "a\\u0000"}'],
    ] as const) {
      const res = await call('POST', path, { body });
      // SQLite stores the character; PostgreSQL cannot, and the answer says which field holds it.
      if (backend.name === 'sqlite' && res.status < 300) continue;
      expect(res.status, `${path}: ${res.body}`).toBe(400);
      expectShape(res, 'E_VALIDATION');
      expect(res.body).toMatch(/body\.(dedupKey|owner)/);
    }
  });

  it_('answers hostile requests to every route in the one shape, never with a 500', async () => {
    const { api, call } = await setup(backend);
    const paths = (api.swagger() as { paths: Record<string, Record<string, unknown>> }).paths;
    const bodies = ['{', 'null', '[]', '"x"', '{"__proto__": {}}', '{"a": 1e999}'];
    let sent = 0;
    for (const [template, operations] of Object.entries(paths)) {
      // GET /v1/changes streams until the client goes, whatever the query: not a request/answer route.
      if (template === '/v1/changes') continue;
      for (const method of Object.keys(operations).map((m) => m.toUpperCase())) {
        for (const param of ['%00', 'x%FFy', 'a%2Fb', '__proto__']) {
          const path = template.replace(/\{[^}]+\}/g, param);
          const requests =
            method === 'GET' || method === 'DELETE'
              ? [{}, { query: '?limit=1&limit=2' }, { query: '?__proto__=1&a[]=%00' }]
              : bodies.map((body) => ({ body }));
          for (const r of requests as { body?: string; query?: string }[]) {
            const res = await call(
              method,
              `${path}${r.query ?? ''}`,
              r.body === undefined ? {} : { body: r.body },
            );
            sent++;
            if (res.status < 400) continue;
            expect(res.status, `${method} ${path}${r.query ?? ''} ${r.body ?? ''}: ${res.body}`).toBeLessThan(
              500,
            );
            const code = (JSON.parse(res.body) as { error?: { code?: string } }).error?.code ?? '';
            expectShape(res, code);
          }
        }
      }
    }
    expect(sent).toBeGreaterThan(500);
  });
});
