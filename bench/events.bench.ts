// Events per second through compileRules against 10 and against 1,000 rules (a mix of
// operators: mostly exact and prefix, some numeric, anything-but, wildcard, exists, and a
// few equals-ignore-case, suffix and cidr), on one thread. Run: `npm run bench:events`
// (or `node bench/events.bench.ts`). Goals (issue 8): >= 100,000 events/s with 1,000 rules,
// and the 1,000-rule figure within 3x of the 10-rule figure.

import { arch, cpus, platform } from 'node:os';
import { performance } from 'node:perf_hooks';
import { compileRules, type EventPattern, type EventRule, type RuleMatcher } from '../src/patterns/index.ts';

/** mulberry32: a small seeded PRNG, so every run benchmarks the same rules and events. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(8);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const int = (n: number): number => Math.floor(rand() * n);

const DOMAINS = [
  'orders',
  'payments',
  'users',
  'files',
  'billing',
  'jobs',
  'alarms',
  'stock',
  'refunds',
  'reports',
  'mail',
  'search',
];
const COMPONENTS = ['api', 'worker', 'scheduler', 'gateway', 'admin'];
const SERVICES = DOMAINS.flatMap((d) => COMPONENTS.map((c) => `com.acme.${d}.${c}`));
const DETAIL_TYPES = [
  'Order Placed',
  'Order Shipped',
  'Order Cancelled',
  'Payment Captured',
  'Payment Failed',
  'User Signed Up',
  'User Deleted',
  'File Uploaded',
  'File Deleted',
  'Invoice Issued',
  'Invoice Paid',
  'Job Started',
  'Job Finished',
  'Job Failed',
  'Alarm Raised',
  'Alarm Cleared',
  'Stock Low',
  'Stock Refilled',
  'Refund Issued',
  'Report Ready',
];
const STATUSES = ['new', 'pending', 'active', 'done', 'failed', 'cancelled'];
const REGIONS = [
  'eu-west-1',
  'eu-central-1',
  'us-east-1',
  'us-west-2',
  'ap-south-1',
  'ap-northeast-1',
  'sa-east-1',
  'ca-central-1',
];
const TIERS = ['free', 'pro', 'enterprise'];
const EXTENSIONS = ['png', 'jpg', 'csv', 'json', 'pdf'];

/**
 * One rule. `specific` rules name a source and a detail-type (exact, or a prefix a quarter of
 * the time), as AWS advises; `broad` ones leave out the source one time in ten and the
 * detail-type one time in four, so each event matches more of them. Each adds one operator on
 * the detail: exact 30%, exact list 15%, prefix 15%, numeric 10%, anything-but 8%, wildcard 8%,
 * exists 7%, equals-ignore-case 3%, suffix 2%, cidr 2%.
 */
function makeRule(i: number, broad: boolean): EventRule {
  const pattern: Record<string, unknown> = {};
  const s = rand();
  if (broad && s < 0.1) {
    // no source
  } else if (s < 0.75) pattern.source = [pick(SERVICES)];
  else pattern.source = [{ prefix: `com.acme.${pick(DOMAINS)}.` }];
  const d = rand();
  if (broad && d < 0.25 && pattern.source !== undefined) {
    // no detail-type
  } else if (d < 0.8) pattern['detail-type'] = [pick(DETAIL_TYPES)];
  else pattern['detail-type'] = [{ prefix: pick(DETAIL_TYPES).split(' ')[0]! }];
  const o = rand();
  let detail: Record<string, unknown>;
  if (o < 0.3) detail = { status: [pick(STATUSES)] };
  else if (o < 0.45) detail = { customer: { tier: [pick(TIERS), pick(TIERS)] } };
  else if (o < 0.6) detail = { region: [{ prefix: pick(REGIONS).slice(0, 3) }] };
  else if (o < 0.7) detail = { amount: [{ numeric: ['>', int(500), '<=', 500 + int(500)] }] };
  else if (o < 0.78) detail = { status: [{ 'anything-but': [pick(STATUSES), pick(STATUSES)] }] };
  else if (o < 0.86) detail = { key: [{ wildcard: `uploads/*/*.${pick(EXTENSIONS)}` }] };
  else if (o < 0.93) detail = { flag: [{ exists: rand() < 0.5 }] };
  else if (o < 0.96) detail = { region: [{ 'equals-ignore-case': pick(REGIONS).toUpperCase() }] };
  else if (o < 0.98) detail = { key: [{ suffix: `.${pick(EXTENSIONS)}` }] };
  else detail = { ip: [{ cidr: `10.${int(4)}.0.0/16` }] };
  pattern.detail = detail;
  return { id: `rule-${i}`, pattern: pattern as EventPattern };
}

/** One event shaped like the bus will store it: source, detailType, time, id, detail. */
function makeEvent(i: number): unknown {
  const detail: Record<string, unknown> = {
    orderId: `o-${100000 + i}`,
    status: pick(STATUSES),
    region: pick(REGIONS),
    amount: Math.round(rand() * 100000) / 100,
    currency: 'EUR',
    key: `uploads/${2020 + int(6)}/file-${int(1e6)}.${pick(EXTENSIONS)}`,
    customer: { id: `c-${int(1e5)}`, tier: pick(TIERS), country: pick(['DE', 'FR', 'US', 'IN']) },
    items: Array.from({ length: 1 + int(3) }, () => ({ sku: `sku-${int(1000)}`, qty: 1 + int(5) })),
    ip: `10.${int(6)}.${int(256)}.${int(256)}`,
  };
  if (rand() < 0.3) detail.flag = rand() < 0.5;
  return {
    id: `evt-${i}`,
    source: pick(SERVICES),
    detailType: pick(DETAIL_TYPES),
    time: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    detail,
  };
}

const EVENT_COUNT = 10_000;
const ROUNDS = 9;
const ROUND_MS = 400;

const specificRules = Array.from({ length: 1000 }, (_, i) => makeRule(i, false));
const broadRules = Array.from({ length: 1000 }, (_, i) => makeRule(i, true));
const events = Array.from({ length: EVENT_COUNT }, (_, i) => makeEvent(i));

interface Case {
  readonly label: string;
  readonly rules: number;
  readonly matcher: RuleMatcher;
  readonly compileMs: number;
  readonly matchesPerEvent: number;
  readonly rates: number[];
}

function prepare(label: string, rules: readonly EventRule[]): Case {
  const t0 = performance.now();
  const matcher = compileRules(rules);
  const compileMs = performance.now() - t0;
  let matches = 0;
  for (const e of events) matches += matcher.match(e).length;
  return {
    label,
    rules: rules.length,
    matcher,
    compileMs,
    matchesPerEvent: matches / events.length,
    rates: [],
  };
}

/** CPU microseconds used by this process so far (user + system): descheduled time does not count. */
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

let sink = 0;

/** Matches events for about ROUND_MS of CPU time; returns events per CPU second. */
function round(c: Case): number {
  let n = 0;
  const start = cpuMicros();
  let used = 0;
  do {
    for (let i = 0; i < events.length; i++) sink += c.matcher.match(events[i]).length;
    n += events.length;
    used = cpuMicros() - start;
  } while (used < ROUND_MS * 1000);
  return (n / used) * 1e6;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const cpu = cpus();

console.log(`mainspring events benchmark — ${new Date().toISOString()}`);
console.log(
  `machine: ${cpu[0]?.model.trim() ?? 'unknown cpu'}, ${cpu.length} cores, node ${process.version}, ${platform()} ${arch()}`,
);
console.log(
  `workload: ${fmt(EVENT_COUNT)} distinct events of about 20 leaf fields; rules name source and detail-type`,
);
console.log(
  '(exact or prefix) plus one detail operator: exact, prefix, numeric, anything-but, wildcard, exists,',
);
console.log('equals-ignore-case, suffix, cidr. "broad" rules omit source or detail-type now and then.');
console.log(
  `one thread; events per CPU-second (process.cpuUsage), median of ${ROUNDS} interleaved rounds of ${ROUND_MS} ms after a warm-up\n`,
);

const cases = [
  prepare('specific', specificRules.slice(0, 10)),
  prepare('specific', specificRules),
  prepare('broad', broadRules.slice(0, 10)),
  prepare('broad', broadRules),
];
for (const c of cases) round(c); // warm-up: JIT and caches
for (let r = 0; r < ROUNDS; r++) for (const c of cases) c.rates.push(round(c));
if (sink < 0) console.log(sink);

console.log('rules            compile ms   events/s     matches/event');
for (const c of cases) {
  console.log(
    `${`${c.rules} ${c.label}`.padEnd(16)}${c.compileMs.toFixed(1).padStart(10)}   ${fmt(median(c.rates)).padStart(10)}   ${c.matchesPerEvent.toFixed(2).padStart(8)}`,
  );
}
const [small, large, broadSmall, broadLarge] = cases as [Case, Case, Case, Case];
// The two sizes run back to back in every round, so the ratio is taken round by round: a slow
// moment on a shared machine then slows both sides alike.
const ratioOf = (a: Case, b: Case): number => median(a.rates.map((rate, i) => rate / b.rates[i]!));
const ratio = ratioOf(small, large);
const largeRate = median(large.rates);
console.log(
  `\nratio 10 / 1,000 specific rules (median per round): ${ratio.toFixed(2)}x   goal <= 3x: ${ratio <= 3 ? 'met' : 'MISSED'}`,
);
console.log(
  `1,000 specific rules: ${fmt(largeRate)} events/s   goal >= 100,000: ${largeRate >= 100_000 ? 'met' : 'MISSED'}`,
);
console.log(
  `ratio 10 / 1,000 broad rules: ${ratioOf(broadSmall, broadLarge).toFixed(2)}x (more matches per event cost more)`,
);
