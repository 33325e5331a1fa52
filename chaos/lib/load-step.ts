// One step of the load scenario: autocannon sends messages to the server's queue from
// `connections` connections for a while, recording which sends were accepted (their ids),
// how each refusal looked, and the server's peak memory.

import autocannon from 'autocannon';
import { LOAD_QUEUE, sampleRss } from './load-server.ts';

export interface StepResult {
  readonly connections: number;
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** 2xx answers: messages the server promised to have stored. */
  readonly accepted: number;
  /** 503 answers (load shed). */
  readonly shed: number;
  /** Any other non-2xx answer, by status. */
  readonly otherStatuses: Readonly<Record<string, number>>;
  /** 503s without Retry-After or not in the one error shape with E_OVERLOADED. */
  readonly badShed: number;
  /** Connection errors and timeouts autocannon saw. */
  readonly errors: number;
  readonly timeouts: number;
  readonly peakRssBytes: number;
  /** /healthz probes during the step, and how many answered 200. */
  readonly healthProbes: number;
  readonly healthOk: number;
}

function header(headers: Record<string, unknown>, name: string): unknown {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

function isShedBody(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    return parsed.error?.code === 'E_OVERLOADED' && typeof parsed.error.message === 'string';
  } catch {
    return false;
  }
}

/** Sends for `durationS` seconds; adds every accepted message id to `acceptedIds`. */
export async function runStep(options: {
  url: string;
  pid: number;
  connections: number;
  durationS: number;
  acceptedIds: Set<string>;
}): Promise<StepResult> {
  const { url, pid, connections, durationS, acceptedIds } = options;
  let seq = 0;
  let badShed = 0;
  const rss = sampleRss(pid);
  // Probes from outside autocannon's connections, as a load balancer's would be.
  let healthProbes = 0;
  let healthOk = 0;
  const probing = setInterval(() => {
    healthProbes++;
    fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) })
      .then(async (res) => {
        await res.arrayBuffer();
        if (res.status === 200) healthOk++;
      })
      .catch(() => {});
  }, 250);
  const result = await autocannon({
    url,
    connections,
    duration: durationS,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: `/v1/queues/${LOAD_QUEUE}/messages`,
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({
          ...req,
          body: JSON.stringify({ body: { n: ++seq, order: 'A-1042', sku: 'SKU-77', qty: 3 } }),
        }),
        onResponse: (status, body, _context, headers) => {
          if (status >= 200 && status < 300) {
            const id = (JSON.parse(body) as { id: string }).id;
            acceptedIds.add(id);
          } else if (status === 503) {
            if (header(headers ?? {}, 'retry-after') === undefined || !isShedBody(body)) badShed++;
          }
        },
      },
    ],
  });
  clearInterval(probing);
  // The last probes' answers.
  await new Promise((r) => setTimeout(r, 300));
  const peakRssBytes = rss.stop();
  const otherStatuses: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) {
    const n = Number(code);
    if ((n >= 200 && n < 300) || n === 503) continue;
    otherStatuses[code] = stat.count ?? 0;
  }
  return {
    connections,
    requests: result.requests.total,
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    accepted: result['2xx'],
    shed: result.statusCodeStats?.['503']?.count ?? 0,
    otherStatuses,
    badShed,
    errors: result.errors,
    timeouts: result.timeouts,
    peakRssBytes,
    healthProbes,
    healthOk,
  };
}
