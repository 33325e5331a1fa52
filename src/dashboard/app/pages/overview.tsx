// #/: what someone opening the dashboard asks first — what ran and failed over the last
// day, what is failing now, how deep the queues are, what fires next, what is waiting.
import { get, query } from '../api.ts';
import { useData } from '../live.ts';
import { href, type PageProps } from '../route.ts';
import type { Execution, Queue, Run, Schedule, Task } from '../types.ts';
import { Empty, ErrorBox, Relative, Section, Status, Time } from '../ui.tsx';
import { QueueTable } from './queues.tsx';
import { ExecutionTable } from './workflows.tsx';

const CHART_STATUSES = ['succeeded', 'failed', 'timed_out', 'cancelled', 'running', 'queued'] as const;

interface Hourly {
  readonly hours: readonly { readonly start: string; readonly counts: Readonly<Record<string, number>> }[];
}

export function OverviewPage(_props: PageProps) {
  const hourly = useData(() => get<Hourly>('/v1/runs/hourly?hours=24'), 'hourly', ['runs']);
  const failures = useData(
    () => get<{ runs: Run[] }>(`/v1/runs${query({ status: 'failed,timed_out', limit: 8 })}`),
    'failures',
    ['runs'],
  );
  const queues = useData(() => get<{ queues: Queue[] }>('/v1/queues'), 'queues', ['queues']);
  const schedules = useData(() => get<{ schedules: Schedule[] }>('/v1/schedules?limit=500'), 'schedules', [
    'schedules',
  ]);
  const tasks = useData(
    () => get<{ tasks: Task[] }>(`/v1/tasks${query({ status: 'pending', limit: 5 })}`),
    'tasks',
    ['tasks'],
  );
  const waiting = useData(
    () => get<{ executions: Execution[] }>(`/v1/executions${query({ status: 'waiting', limit: 8 })}`),
    'waiting',
    ['workflows'],
  );
  const next = [
    ...(schedules.data?.schedules ?? [])
      .filter((s) => s.enabled && s.state.nextTick)
      .map((s) => ({ kind: 'schedule', name: s.name, at: s.state.nextTick!, link: href('/schedules') })),
    ...(tasks.data?.tasks ?? []).map((t) => ({ kind: 'task', name: t.id, at: t.due, link: href('/tasks') })),
  ]
    .sort((a, b) => a.at.localeCompare(b.at))
    .slice(0, 8);
  const depth = (q: Queue) => q.counts.visible + q.counts.inFlight + q.counts.delayed + q.counts.dead;
  // The busiest first; the rest are a click away.
  const userQueues = (queues.data?.queues ?? [])
    .filter((q) => !q.name.startsWith('fn.'))
    .sort((a, b) => depth(b) - depth(a) || a.name.localeCompare(b.name))
    .slice(0, 8);
  return (
    <>
      <h1>Overview</h1>
      <ErrorBox error={hourly.error ?? queues.error} />
      <div class="grid">
        <Section title="Runs, last 24 hours">
          {hourly.data && <RunsChart hours={hourly.data.hours} />}
        </Section>
        <Section title="Failing now">
          {(failures.data?.runs ?? []).length === 0 ? (
            <Empty>No failed runs.</Empty>
          ) : (
            <ul class="plain failures">
              {failures.data?.runs.map((r) => (
                <li>
                  <a href={href(`/runs/${encodeURIComponent(r.id)}`)}>{r.function}</a>{' '}
                  <Status status={r.status} /> <Relative at={r.finishedAt ?? r.createdAt} />
                  <div class="err">{r.error?.message}</div>
                </li>
              ))}
            </ul>
          )}
        </Section>
        <Section title="Queues" actions={<a href={href('/queues')}>all</a>}>
          {userQueues.length === 0 ? <Empty>No queues.</Empty> : <QueueTable queues={userQueues} compact />}
        </Section>
        <Section title="Next due">
          {next.length === 0 ? (
            <Empty>Nothing scheduled.</Empty>
          ) : (
            <ul class="plain">
              {next.map((n) => (
                <li>
                  <a href={n.link}>{n.name}</a> <span class="muted">{n.kind}</span> <Time at={n.at} />{' '}
                  <span class="muted">
                    (<Relative at={n.at} />)
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Section>
      </div>
      <Section
        title="Workflows waiting"
        actions={<a href={href('/workflows', { status: 'waiting' })}>all</a>}
      >
        {(waiting.data?.executions ?? []).length === 0 ? (
          <Empty>No execution is waiting.</Empty>
        ) : (
          <div class="table-wrap">
            <ExecutionTable executions={waiting.data!.executions} />
          </div>
        )}
      </Section>
    </>
  );
}

/** A stacked bar per hour; the numbers are in each bar's title and in a table for screen readers. */
function RunsChart({ hours }: Hourly) {
  const totals = hours.map((h) => Object.values(h.counts).reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  const w = 24;
  const total = totals.reduce((a, b) => a + b, 0);
  const failed = hours.reduce((a, h) => a + (h.counts['failed'] ?? 0) + (h.counts['timed_out'] ?? 0), 0);
  return (
    <figure class="chart-figure">
      <svg
        class="chart"
        viewBox={`0 0 ${hours.length * w} 100`}
        role="img"
        aria-label={`${total} runs in the last 24 hours, ${failed} failed`}
      >
        {hours.map((h, i) => {
          let y = 100;
          return (
            <g>
              <title>
                {new Date(h.start).toLocaleString()}:{' '}
                {CHART_STATUSES.filter((s) => h.counts[s])
                  .map((s) => `${h.counts[s]} ${s}`)
                  .join(', ') || 'none'}
              </title>
              {CHART_STATUSES.map((s) => {
                const n = h.counts[s] ?? 0;
                if (n === 0) return null;
                const height = (n / max) * 96;
                y -= height;
                return <rect class={`bar-${s}`} x={i * w + 2} y={y} width={w - 4} height={height} />;
              })}
            </g>
          );
        })}
      </svg>
      <figcaption class="muted">
        {total} runs, {failed} failed or timed out; one bar an hour, the latest on the right.
      </figcaption>
      <table class="visually-hidden">
        <caption>Runs per hour</caption>
        <tbody>
          {hours.map((h) => (
            <tr>
              <th>{h.start}</th>
              <td>{JSON.stringify(h.counts)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
