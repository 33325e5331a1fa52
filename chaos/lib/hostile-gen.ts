// The hostile scenario's inputs: every route of the server's OpenAPI document, and fast-check
// arbitraries that turn one route into requests that are each wrong in one way (a path
// parameter, a query parameter, one body field, the body's syntax or its content type),
// the rest valid, so each refusal tests the check that should catch that one thing.

import fc from 'fast-check';

export interface Schema {
  readonly type?: string | readonly string[];
  readonly anyOf?: readonly Schema[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly items?: Schema;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly unknown[];
  readonly format?: string;
  readonly pattern?: string;
}

export interface Route {
  readonly method: string;
  /** The OpenAPI path, e.g. `/v1/locks/{name}`. */
  readonly template: string;
  readonly params: readonly { readonly name: string; readonly schema: Schema }[];
  readonly query: readonly { readonly name: string; readonly schema: Schema }[];
  readonly body: Schema | undefined;
}

export interface HostileRequest {
  readonly method: string;
  /** Sent as is: already percent-encoded, or deliberately not. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | undefined;
  /** What is wrong with it, e.g. `body.delay: far-future duration`. */
  readonly attack: string;
  /** True when no server may accept it (a 2xx is then a validation hole). */
  readonly surelyInvalid: boolean;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = readonly (string | number)[];

/** The routes of an OpenAPI 3 document. */
export function routesOf(doc: { paths: Record<string, Record<string, unknown>> }): Route[] {
  const routes: Route[] = [];
  for (const [template, ops] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(ops)) {
      // A stream that answers a valid request never ends (GET /v1/changes): its input is
      // the headers alone, which every other route shares.
      if (JSON.stringify(raw).includes('text/event-stream') && !JSON.stringify(raw).includes('follow'))
        continue;
      const op = raw as {
        parameters?: { in: string; name: string; schema: Schema }[];
        requestBody?: { content?: Record<string, { schema: Schema }> };
      };
      const ps = op.parameters ?? [];
      routes.push({
        method: method.toUpperCase(),
        template,
        params: ps.filter((p) => p.in === 'path'),
        query: ps.filter((p) => p.in === 'query'),
        body: op.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  return routes;
}

export const routeKey = (r: Route): string => `${r.method} ${r.template}`;

/** What a route is called with when only one thing is wrong: stored names and valid bodies. */
export interface Valid {
  /** Path parameter values per template, e.g. `{ '/v1/locks/{name}': { name: 'seed-lock' } }`. */
  readonly params: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** A valid body per route key; routes with a body schema and none here get `{}`. */
  readonly bodies: Readonly<Record<string, Json>>;
  /** Fields the schema leaves untyped but the engine checks (an event's source), per route key. */
  readonly checked: Readonly<Record<string, readonly { path: Path; schema: Schema; required: boolean }[]>>;
}

// ---- values that are wrong for a schema ---------------------------------------------------

const typesOf = (s: Schema): Set<string> | null => {
  if (s.anyOf) {
    const all = new Set<string>();
    for (const a of s.anyOf) {
      const t = typesOf(a);
      if (t === null) return null;
      for (const x of t) all.add(x);
    }
    return all;
  }
  if (s.type === undefined) return s.properties ? new Set(['object']) : null;
  return new Set(typeof s.type === 'string' ? [s.type] : s.type);
};

const SAMPLES: readonly [string, Json][] = [
  ['null', null],
  ['boolean', true],
  ['integer', -1],
  ['number', 1.5],
  ['string', 'x'],
  ['array', []],
  ['object', {}],
];

/** JSON values whose type the schema does not allow (none when it allows any). */
function wrongTypes(s: Schema): Json[] {
  const allowed = typesOf(s);
  if (allowed === null) return [];
  return SAMPLES.filter(([t]) => {
    if (allowed.has(t)) return false;
    if (t === 'integer' && allowed.has('number')) return false;
    return true;
  }).map(([, v]) => v);
}

const isDuration = (s: Schema): boolean => {
  const t = typesOf(s);
  return !!t?.has('integer') && t.has('string') && !t.has('object');
};
const INSTANT_FIELDS = new Set([
  'start',
  'end',
  'due',
  'from',
  'to',
  'time',
  'dueBefore',
  'dueAfter',
  'since',
]);
// Fields the engine reads as names or keywords: odd unicode there is never valid.
const WORD_FIELDS = new Set([
  ...INSTANT_FIELDS,
  'name',
  'id',
  'action',
  'function',
  'queue',
  'workflow',
  'timezone',
  'kind',
  'misfire',
  'overlap',
  'method',
  'expression',
  'source',
  'detailType',
  'rule',
  'ids',
]);

// Raw JSON text (a number JSON.stringify cannot write, deep nesting), spliced into the body
// text in place of a marker string.
const raws: string[] = [];
const RAW = (text: string): string => `\u0000RAW:${raws.push(text) - 1}\u0000`;

export const FAR_DURATIONS: readonly Json[] = [
  '100000000d',
  '36526d',
  RAW('9007199254740993'),
  RAW('1e300'),
  RAW('-1'),
  '1e400',
  '-5s',
  'NaN',
  'Infinity',
  '5 parsecs',
  `${'9'.repeat(40)}w`,
  '1.5.5s',
  ' ',
];
export const BAD_INSTANTS: readonly Json[] = [
  '+275760-09-13T00:00:00Z',
  '10000-01-01T00:00:00Z',
  '9999-12-31T23:59:59-14:00',
  '-000001-01-01T00:00:00Z',
  '2026-02-30T00:00:00Z',
  '2026-01-01',
  '2026-01-01T00:00:00',
  'now',
  '',
  RAW('8640000000000001'),
];
const WEIRD_UNICODE: readonly string[] = [
  '\u0000',
  'a\nb',
  '\u202Eevil',
  '\uD800',
  '🎉'.repeat(3),
  'e\u0301',
  '\uFEFF',
  '../../etc/passwd',
  ' ',
];
// Some ids take any printable text (a task's); none takes a control character or half a surrogate pair.
const NEVER_A_NAME: readonly string[] = ['\u0000', 'a\nb', '\uD800'];

function longString(max: number | undefined): fc.Arbitrary<string> {
  const over = max === undefined ? 100_000 : max + 1;
  return fc
    .tuple(fc.constantFrom('a', 'é', '🎉', '中'), fc.integer({ min: over, max: over + 50 }))
    .map(([c, n]) => c.repeat(n));
}

function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

// ---- the body ------------------------------------------------------------------------------

interface Field {
  readonly path: Path;
  readonly schema: Schema;
  readonly required: boolean;
}

/** Typed fields of `schema` (and of the parts of `value` it describes), depth first. */
function fieldsOf(schema: Schema, value: Json, path: Path = []): Field[] {
  const out: Field[] = [];
  if (schema.properties && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, s] of Object.entries(schema.properties)) {
      out.push({ path: [...path, k], schema: s, required: schema.required?.includes(k) ?? false });
      if (k in value) out.push(...fieldsOf(s, value[k]!, [...path, k]));
    }
  }
  if (schema.items && Array.isArray(value) && value.length > 0) {
    out.push({ path: [...path, 0], schema: schema.items, required: true });
    out.push(...fieldsOf(schema.items, value[0]!, [...path, 0]));
  }
  return out;
}

/** Objects in the body that refuse unknown fields. */
function closedObjects(schema: Schema, value: Json, path: Path = []): Path[] {
  const out: Path[] = [];
  if (value === null || typeof value !== 'object') return out;
  if (!Array.isArray(value) && schema.properties) {
    if (schema.additionalProperties === false) out.push(path);
    for (const [k, s] of Object.entries(schema.properties))
      if (k in value) out.push(...closedObjects(s, value[k]!, [...path, k]));
  }
  if (Array.isArray(value) && schema.items && value.length > 0)
    out.push(...closedObjects(schema.items, value[0]!, [...path, 0]));
  return out;
}

const clone = (v: Json): Json => structuredClone(v);
const DROP = Symbol('drop');

function setAt(root: Json, path: Path, v: Json | typeof DROP): Json {
  if (path.length === 0) return v === DROP ? null : v;
  const copy = clone(root);
  let node = copy as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) {
    const next = node[k];
    if (next === null || typeof next !== 'object') return copy; // the path is not in this body
    node = next as Record<string | number, Json>;
  }
  const last = path.at(-1)!;
  if (v === DROP) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
    // An own property even for "__proto__", which plain assignment would take as the prototype.
  } else
    Object.defineProperty(node, last, { value: v, enumerable: true, writable: true, configurable: true });
  return copy;
}

const bodyText = (v: Json): string =>
  JSON.stringify(v).replace(/"\\u0000RAW:(\d+)\\u0000"/g, (_m, i: string) => raws[Number(i)]!);

const show = (p: Path): string => (p.length === 0 ? 'body' : `body.${p.join('.')}`);

interface BodyAttack {
  readonly attack: string;
  readonly text: string;
  readonly surelyInvalid: boolean;
}

function fieldAttacks(f: Field): fc.Arbitrary<{ value: Json | typeof DROP; what: string; sure: boolean }>[] {
  const arbs: fc.Arbitrary<{ value: Json | typeof DROP; what: string; sure: boolean }>[] = [];
  const last = String(f.path.at(-1));
  const wrong = wrongTypes(f.schema);
  if (wrong.length > 0)
    arbs.push(fc.constantFrom(...wrong).map((value) => ({ value, what: 'wrong type', sure: true })));
  if (f.required) arbs.push(fc.constant({ value: DROP, what: 'missing', sure: true }));
  if (isDuration(f.schema))
    arbs.push(
      fc.constantFrom(...FAR_DURATIONS).map((value) => ({ value, what: 'bad duration', sure: true })),
    );
  if (INSTANT_FIELDS.has(last))
    arbs.push(fc.constantFrom(...BAD_INSTANTS).map((value) => ({ value, what: 'bad instant', sure: true })));
  const t = typesOf(f.schema);
  if (
    t?.has('string') &&
    !isDuration(f.schema) &&
    (f.schema.maxLength !== undefined || WORD_FIELDS.has(last))
  )
    arbs.push(longString(f.schema.maxLength).map((value) => ({ value, what: 'overlong', sure: true })));
  if (t?.has('string') && WORD_FIELDS.has(last))
    arbs.push(
      fc.constantFrom(...WEIRD_UNICODE).map((value) => ({
        value,
        what: `odd unicode ${JSON.stringify(value)}`,
        sure: NEVER_A_NAME.includes(value),
      })),
    );
  if (t !== null && !t.has('string') && (t.has('integer') || t.has('number'))) {
    const lits = ['1e999', '-1e999', '9007199254740993', '-0', '1.5', '-1', '1e308'];
    if (f.schema.maximum !== undefined) lits.push(String(f.schema.maximum + 1));
    arbs.push(
      fc.constantFrom(...lits).map((l) => ({
        value: RAW(l),
        what: `number ${l}`,
        // -0, 1.5 or -1 may be in range for some number fields.
        sure: ['1e999', '-1e999', '9007199254740993'].includes(l) || f.schema.maximum !== undefined,
      })),
    );
  }
  // Where any JSON goes (a payload), deep nesting may be refused or stored, never a 5xx.
  arbs.push(
    fc.integer({ min: 1_000, max: 100_000 }).map((depth) => ({
      value: RAW(deepJson(depth, depth % 2 === 0 ? 'array' : 'object')),
      what: `nested ${depth} deep`,
      sure: wrong.length > 0,
    })),
  );
  return arbs;
}

function bodyAttacks(schema: Schema, valid: Json, checked: readonly Field[]) {
  const fields: Field[] = [...fieldsOf(schema, valid), ...checked];
  const arbs: fc.Arbitrary<BodyAttack>[] = [];
  for (const f of fields) {
    for (const a of fieldAttacks(f)) {
      arbs.push(
        a.map(({ value, what, sure }) => ({
          attack: `${show(f.path)}: ${what}`,
          text: bodyText(setAt(valid, f.path, value)),
          surelyInvalid: sure,
        })),
      );
    }
  }
  const closed = closedObjects(schema, valid);
  if (closed.length > 0) {
    arbs.push(
      fc
        .tuple(fc.constantFrom(...closed), fc.constantFrom('zzz', '__proto__', 'constructor', 'ПРИВЕТ', ''))
        .map(([p, key]) => {
          // "__proto__" and "constructor" as JSON keys: prototype poisoning, refused by the parser.
          const text = bodyText(setAt(valid, [...p, key], key === 'constructor' ? { prototype: {} } : 1));
          return { attack: `${show(p)}: extra field ${JSON.stringify(key)}`, text, surelyInvalid: true };
        }),
    );
  }
  const whole = bodyText(valid);
  arbs.push(
    fc
      .constantFrom(
        whole.slice(0, Math.max(1, whole.length - 1)),
        'NaN',
        `${whole},`,
        `{${whole.slice(1, -1)},}`,

        '[]',
        '"x"',
        '1e999',
        '\u0000',
        '{"__proto__":{"polluted":1}}',
        deepJson(200_000, 'array'),
        deepJson(100_000, 'object'),
      )
      .map((text) => ({
        attack: `body: malformed or not an object (${text.slice(0, 20)}…)`,
        text,
        surelyInvalid: true,
      })),
  );
  // A JSON null where an object goes: some routes take it as no body, i.e. {} (workflow starts).
  arbs.push(fc.constant({ attack: 'body: null', text: 'null', surelyInvalid: false }));
  // RFC 8259 lets a parser ignore a byte order mark: refusing it is not required.
  arbs.push(
    fc.constant({ attack: 'body: led by a byte order mark', text: `\uFEFF${whole}`, surelyInvalid: false }),
  );
  return fc.oneof(...arbs);
}

// ---- path and query ------------------------------------------------------------------------

function pathValues(schema: Schema): fc.Arbitrary<{ raw: string; what: string; sure: boolean }> {
  const max = schema.maxLength;
  return fc.oneof(
    longString(max ?? 200).map((s) => ({
      raw: encodeURIComponent(s),
      what: 'overlong',
      sure: max !== undefined,
    })),
    fc
      .constantFrom('%', '%zz', '%E0%A4%A', '%C0%AF', '%ED%A0%80', '%FF', 'a%2', '%%41')
      .map((raw) => ({ raw, what: `bad percent-encoding ${raw}`, sure: true })),
    fc
      .constantFrom('%00', '%0A', '%7F', '..%2F..%2Fetc%2Fpasswd', '%2E%2E', '%20')
      .map((raw) => ({ raw, what: `odd ${raw}`, sure: false })),
    fc
      .constantFrom('-1', '0', 'NaN', '1e309', '9007199254740993', '99999999999999999999')
      .map((raw) => ({ raw, what: `number-like ${raw}`, sure: false })),
    fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
      .map((s) => ({ raw: encodeURIComponent(s), what: 'unicode', sure: false })),
    fc.constant({ raw: 'a'.repeat(30_000), what: 'far past the URL limit', sure: true }),
  );
}

function queryValues(
  schema: Schema,
  name: string,
): fc.Arbitrary<{ raw: string; what: string; sure: boolean }> {
  const t = typesOf(schema);
  // Values none of which a pattern, an enum, a format or a numeric type accepts.
  const constrained = !!(schema.enum || schema.pattern || schema.format || (t && !t.has('string')));
  return fc.oneof(
    fc
      .constantFrom('abc', '-1', '1e309', 'NaN', '99999999999999999999', '1.5', '%zz', '%', '%00')
      .map((raw) => ({ raw, what: `value ${raw}`, sure: constrained && raw !== '99999999999999999999' })),
    fc
      .constantFrom(...BAD_INSTANTS.filter((v): v is string => typeof v === 'string' && v !== ''))
      .map((v) => ({ raw: encodeURIComponent(v), what: `instant ${v}`, sure: INSTANT_FIELDS.has(name) })),
    longString(schema.maxLength ?? 5000).map((s) => ({
      raw: encodeURIComponent(s),
      what: 'overlong',
      sure: schema.maxLength !== undefined,
    })),
    fc.constant({ raw: `1&${name}=2`, what: 'given twice', sure: false }),
    fc
      .constantFrom('99999999999999999999:x', '-99999999999999999999:x', '1e400:x', '9007199254740993')
      .map((raw) => ({ raw, what: `cursor-like ${raw}`, sure: false })),
  );
}

// ---- one request ----------------------------------------------------------------------------

const CONTENT_TYPES: readonly (string | null)[] = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json; charset=utf-16',
  null,
];

/** Requests for `route`, each wrong in one way; the rest as `valid` gives it. */
export function hostileArbitrary(route: Route, valid: Valid): fc.Arbitrary<HostileRequest> {
  const key = routeKey(route);
  const params = valid.params[route.template] ?? {};
  const base = (override?: { name: string; raw: string }) =>
    route.template.replace(/\{(\w+)\}/g, (_m, n: string) =>
      override?.name === n ? override.raw : encodeURIComponent(params[n] ?? 'nope'),
    );
  const validBody: Json | undefined = route.body ? (valid.bodies[key] ?? {}) : undefined;
  const jsonHeaders = { 'content-type': 'application/json' };
  const make = (
    path: string,
    attack: string,
    surelyInvalid: boolean,
    text: string | undefined = validBody === undefined ? undefined : bodyText(validBody),
    headers: Record<string, string> = text === undefined ? {} : jsonHeaders,
  ): HostileRequest => ({
    method: route.method,
    path,
    headers,
    body: text === undefined ? undefined : Buffer.from(text),
    attack,
    surelyInvalid,
  });

  const arbs: fc.Arbitrary<HostileRequest>[] = [];
  for (const p of route.params) {
    arbs.push(
      pathValues(p.schema).map((v) =>
        make(base({ name: p.name, raw: v.raw }), `path ${p.name}: ${v.what}`, v.sure),
      ),
    );
  }
  for (const q of route.query) {
    if (q.name === 'follow') continue; // a valid follow=1 streams until the client goes
    arbs.push(
      queryValues(q.schema, q.name).map((v) =>
        make(`${base()}?${q.name}=${v.raw}`, `query ${q.name}: ${v.what}`, v.sure),
      ),
    );
  }
  if (route.body && validBody !== undefined) {
    arbs.push(
      bodyAttacks(route.body, validBody, valid.checked[key] ?? []).map((b) =>
        make(base(), b.attack, b.surelyInvalid, b.text),
      ),
    );
    arbs.push(
      fc.constantFrom(...CONTENT_TYPES).map((ct) =>
        // A charset parameter on JSON is ignored by the parser (the bytes here are ASCII either way).
        make(
          base(),
          `content-type ${ct ?? '(none)'}`,
          ct === null || !ct.startsWith('application/json'),
          bodyText(validBody),
          ct === null ? {} : { 'content-type': ct },
        ),
      ),
    );
    arbs.push(
      fc
        .constantFrom(
          Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
          Buffer.from('{"a":"\xff"}', 'latin1'),
          Buffer.alloc(0),
        )
        .map((buf) => ({ ...make(base(), 'body: not UTF-8 JSON, or empty', true), body: buf })),
    );
  }
  if (arbs.length === 0) {
    // No inputs at all: odd query strings and a stray body must not matter either.
    arbs.push(
      fc
        .constantFrom('?%zz', '?a=%', `?x=${'y'.repeat(5000)}`, '?__proto__[x]=1')
        .map((qs) => make(`${base()}${qs}`, `stray query ${qs.slice(0, 12)}`, false)),
    );
  }
  return fc.oneof(...arbs);
}
