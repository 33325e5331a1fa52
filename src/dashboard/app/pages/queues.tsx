// #/queues: each queue's settings and counts by state, with the oldest message's age; paused ones marked.
import { get } from '../api.ts';
import { useData } from '../live.ts';
import { href, type PageProps } from '../route.ts';
import type { Queue } from '../types.ts';
import { Empty, ErrorBox, formatDuration } from '../ui.tsx';

export function QueuesPage(_props: PageProps) {
  const queues = useData(() => get<{ queues: Queue[] }>('/v1/queues'), 'queues', ['queues']);
  const list = (queues.data?.queues ?? []).filter((q) => !q.name.startsWith('fn.'));
  return (
    <>
      <h1>Queues</h1>
      <ErrorBox error={queues.error} />
      <div class="card">
        {list.length === 0 && !queues.loading ? <Empty>No queues.</Empty> : <QueueTable queues={list} />}
      </div>
    </>
  );
}

/** Counts by state; with `compact`, without the settings columns (the overview). */
export function QueueTable({ queues, compact = false }: { queues: readonly Queue[]; compact?: boolean }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Queue</th>
            <th class="num">Visible</th>
            <th class="num">In flight</th>
            <th class="num">Delayed</th>
            <th class="num">Dead</th>
            <th>Oldest</th>
            {!compact && (
              <>
                <th>Visibility timeout</th>
                <th>Max receives</th>
                <th>Dead-letter queue</th>
              </>
            )}
          </tr>
        </thead>
        <tbody>
          {queues.map((q) => (
            <tr data-queue={q.name}>
              <td>
                <a href={href(`/queues/${encodeURIComponent(q.name)}`)}>{q.name}</a>
                {q.settings.fifo && <span class="badge">FIFO</span>}
                {q.paused && (
                  <span class="badge s-paused" title={q.pausedAt ? `paused since ${q.pausedAt}` : undefined}>
                    paused
                  </span>
                )}
              </td>
              <td class="num">{q.counts.visible}</td>
              <td class="num">{q.counts.inFlight}</td>
              <td class="num">{q.counts.delayed}</td>
              <td class={`num ${q.counts.dead > 0 ? 'err' : ''}`}>{q.counts.dead}</td>
              <td>{q.counts.oldestAgeMs === null ? '—' : formatDuration(q.counts.oldestAgeMs)}</td>
              {!compact && (
                <>
                  <td>{formatDuration(q.settings.visibilityTimeoutMs)}</td>
                  <td>{q.settings.maxReceiveCount ?? '∞'}</td>
                  <td>
                    {q.settings.deadLetterQueue ? (
                      <a href={href(`/queues/${encodeURIComponent(q.settings.deadLetterQueue)}`)}>
                        {q.settings.deadLetterQueue}
                      </a>
                    ) : (
                      '—'
                    )}
                  </td>
                </>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
