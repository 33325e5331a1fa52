// #/runs/<id>: one attempt — timings, trigger, input, result or error with its stack, the
// other attempts of its invocation, and its log lines, followed live while it runs.
import { useEffect, useState } from 'preact/hooks';
import { get, post, query } from '../api.ts';
import { useData } from '../live.ts';
import { href, type PageProps } from '../route.ts';
import { stream } from '../sse.ts';
import type { LogLine, Run } from '../types.ts';
import { ActionButton, Duration, ErrorBox, Id, Json, Section, Status, Time } from '../ui.tsx';

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** The run's lines: the stored ones, then each new one as the run writes it, until it ends. */
function useLogLines(id: string): { lines: LogLine[]; live: boolean } {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [live, setLive] = useState(false);
  useEffect(() => {
    setLines([]);
    const stop = new AbortController();
    // Resumes after a drop from the last line seen (the stream's ids are the lines' seq).
    void stream(`/v1/runs/${encodeURIComponent(id)}/logs?follow=1`, {
      signal: stop.signal,
      endEvent: 'end',
      onState: setLive,
      onEvent: (e) => {
        if (e.event === 'line') {
          const line = JSON.parse(e.data) as LogLine;
          setLines((ls) => (ls.some((l) => l.seq === line.seq) ? ls : [...ls, line]));
        } else if (e.event === 'end') setLive(false);
      },
    });
    return () => stop.abort();
  }, [id]);
  return { lines, live };
}

export function RunPage({ route }: PageProps) {
  const id = route.parts[1]!;
  const run = useData(() => get<Run>(`/v1/runs/${encodeURIComponent(id)}`), id, ['runs']);
  const r = run.data;
  const attempts = useData(
    () =>
      r
        ? get<{ runs: Run[] }>(`/v1/runs${query({ invocation: r.invocationId, limit: 100 })}`)
        : Promise.resolve({ runs: [] }),
    r?.invocationId ?? '',
    ['runs'],
  );
  const { lines, live } = useLogLines(id);
  if (run.error) return <ErrorBox error={run.error} />;
  if (!r) return <p>Loading…</p>;
  const finished = !['queued', 'running'].includes(r.status);
  return (
    <>
      <h1>
        Run <Id value={r.id} /> <Status status={r.status} />
      </h1>
      <div class="card-actions page-actions">
        <ActionButton
          disabled={finished || r.cancelRequestedAt !== null}
          onAction={async () => {
            await post(`/v1/runs/${encodeURIComponent(r.id)}/cancel`);
            run.reload();
          }}
          confirm={`Cancel run ${r.id}?`}
        >
          Cancel
        </ActionButton>
        <ActionButton
          disabled={!['failed', 'timed_out', 'cancelled'].includes(r.status)}
          onAction={async () => {
            const { run: next } = await post<{ run: Run }>(`/v1/runs/${encodeURIComponent(r.id)}/retry`);
            location.hash = href(`/runs/${encodeURIComponent(next.id)}`);
          }}
        >
          Retry
        </ActionButton>
      </div>
      <div class="grid">
        <Section title="Run">
          <dl class="facts">
            <dt>Function</dt>
            <dd>
              <a href={href('/runs', { function: r.function })}>{r.function}</a>
            </dd>
            <dt>Invocation</dt>
            <dd>
              <Id value={r.invocationId} /> (attempt {r.attempt})
            </dd>
            <dt>Trigger</dt>
            <dd>
              {r.trigger.kind}
              {Object.entries(r.trigger)
                .filter(([k]) => k !== 'kind')
                .map(([k, v]) => (
                  <span class="muted">
                    {' '}
                    · {k}: {typeof v === 'string' ? v : JSON.stringify(v)}
                  </span>
                ))}
            </dd>
            <dt>Created</dt>
            <dd>
              <Time at={r.createdAt} />
            </dd>
            <dt>Scheduled for</dt>
            <dd>
              <Time at={r.scheduledFor} />
            </dd>
            <dt>Started</dt>
            <dd>
              <Time at={r.startedAt} />
            </dd>
            <dt>Finished</dt>
            <dd>
              <Time at={r.finishedAt} />
            </dd>
            <dt>Duration</dt>
            <dd>
              <Duration ms={r.durationMs} />
            </dd>
            <dt>Worker</dt>
            <dd>{r.owner ?? '—'}</dd>
            {r.cancelRequestedAt && (
              <>
                <dt>Cancel requested</dt>
                <dd>
                  <Time at={r.cancelRequestedAt} />
                </dd>
              </>
            )}
          </dl>
        </Section>
        <Section title="Attempts of this invocation">
          <ul class="plain">
            {(attempts.data?.runs ?? [])
              .slice()
              .sort((a, b) => a.attempt - b.attempt)
              .map((a) => (
                <li>
                  {a.id === r.id ? (
                    <strong>#{a.attempt}</strong>
                  ) : (
                    <a href={href(`/runs/${encodeURIComponent(a.id)}`)}>#{a.attempt}</a>
                  )}{' '}
                  <Status status={a.status} /> <Time at={a.createdAt} />{' '}
                  {a.error && <span class="err">{a.error.message}</span>}
                </li>
              ))}
          </ul>
        </Section>
      </div>
      <Section title="Input">
        <Json value={r.input} />
      </Section>
      {r.error ? (
        <Section title="Error">
          <p class="err">
            <strong>{r.error.name}</strong>
            {r.error.code ? ` (${r.error.code})` : ''}: {r.error.message}
            {r.error.exitCode !== undefined && r.error.exitCode !== null
              ? ` — exit code ${r.error.exitCode}`
              : ''}
          </p>
          {r.error.stack && <pre class="log stack">{r.error.stack}</pre>}
        </Section>
      ) : (
        r.status === 'succeeded' && (
          <Section title="Result">
            <Json value={r.result ?? null} />
          </Section>
        )
      )}
      <Section
        title={`Log (${lines.length})`}
        actions={live ? <span class="live on">● following</span> : undefined}
      >
        {lines.length === 0 ? (
          <p class="empty">No lines{live ? ' yet' : ''}.</p>
        ) : (
          <pre class="log lines" aria-live="polite">
            {lines.map((l) => (
              <div class={`line l${l.level}`} data-seq={l.seq}>
                <span class="muted">{new Date(l.time).toLocaleTimeString()}</span>{' '}
                <span class="lvl">{LEVELS[l.level] ?? l.level}</span> {l.msg}
                {l.fields && Object.keys(l.fields).length > 0 ? (
                  <span class="muted"> {JSON.stringify(l.fields)}</span>
                ) : null}
              </div>
            ))}
          </pre>
        )}
      </Section>
    </>
  );
}
