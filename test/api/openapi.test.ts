// /openapi.json as something clients are generated from: a valid OpenAPI 3.1 document
// (swagger-parser), one unique operationId per operation, the resources named in
// components.schemas and reached by $ref, and the same operations the typed client and
// the contract's table (src/contract/) declare.

import SwaggerParser from '@apidevtools/swagger-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/server.ts';
import { createMainspring } from '../../src/app.ts';
import { createClient } from '../../src/client/index.ts';
import { OPERATIONS } from '../../src/contract/index.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { tempDir } from '../helpers/backends.ts';

interface Doc {
  paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, { $id?: string; properties?: Record<string, unknown> }> };
}

const NAMED = [
  'Run',
  'RunLogLine',
  'Schedule',
  'Task',
  'Queue',
  'Message',
  'Execution',
  'Operation',
  'Lease',
  'Event',
  'Error',
];
const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

let doc: Doc;
beforeAll(async () => {
  const ms = await createMainspring({ db: `sqlite:${tempDir()}/openapi.db`, clock: new FakeClock() });
  const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024 });
  doc = (await api.inject('/openapi.json')).json() as Doc;
  await api.close();
  await ms.close();
});

/** Every operation of the document as `METHOD /path/{param}` → operationId. */
function operationsOf(d: Doc): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const [path, ops] of Object.entries(d.paths))
    for (const [method, op] of Object.entries(ops))
      if (METHODS.has(method)) out.set(`${method.toUpperCase()} ${path}`, op.operationId);
  return out;
}

describe('the OpenAPI document', () => {
  it('validates as OpenAPI 3.1', async () => {
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('gives every operation a unique camelCase operationId', () => {
    const ops = operationsOf(doc);
    expect(ops.size).toBeGreaterThan(50);
    const ids = [...ops.values()];
    expect([...ops].filter(([, id]) => id === undefined).map(([key]) => key)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z]+(?:[A-Z][a-z0-9]*)+$/);
  });

  it('names the resources in components.schemas and reaches them by $ref', () => {
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(NAMED));
    expect(doc.components.schemas['Run']!.properties).toHaveProperty('invocationId');
    expect(doc.components.schemas['Error']!.properties).toHaveProperty('error');
    const text = JSON.stringify(doc.paths);
    for (const name of NAMED) expect(text, name).toContain(`"$ref":"#/components/schemas/${name}"`);
    expect(doc.paths['/v1/runs/{id}']!['get']!.responses['200']).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Run' } } },
    });
    expect(doc.paths['/v1/runs/{id}']!['get']!.responses['404']).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    });
  });

  it('has the operations of the typed client, with the same method and path, and no other', () => {
    const client = createClient({ baseUrl: 'http://127.0.0.1:1' }) as unknown as Record<string, unknown>;
    const fromDoc = new Map([...operationsOf(doc)].map(([key, id]) => [id!, key]));
    const fromTable = new Map(
      Object.entries(OPERATIONS).map(([id, op]) => [
        id,
        `${op.method} ${op.path.replace(/:(\w+)/g, '{$1}')}`,
      ]),
    );
    expect(Object.fromEntries(fromTable)).toEqual(Object.fromEntries(fromDoc));
    for (const [id, op] of Object.entries(OPERATIONS)) {
      expect(op.schema.operationId).toBe(id);
      expect(typeof client[id], id).toBe('function');
    }
  });
});
