// #/queues/<name>: a queue's settings and counts, and its dead letters — each body,
// receive count and every error it met — with redrive (selected or all), purge, and pause/resume.

import { useState } from 'preact/hooks';
import { api, get, post, query } from '../api.ts';
import { useData } from '../live.ts';
import { useSelection } from '../paging.ts';
import { href, type PageProps } from '../route.ts';
import type { Message, Queue } from '../types.ts';
import { ActionButton, Empty, ErrorBox, formatDuration, Id, Json, Section, Time } from '../ui.tsx';
import { QueueTable } from './queues.tsx';

const PAGE = 50;

export function QueuePage({ route }: PageProps) {
  const name = route.parts[1]!;
  const path = `/v1/queues/${encodeURIComponent(name)}`;
  const [after, setAfter] = useState<string[]>([]);
  const queue = useData(() => get<Queue>(path), name, ['queues']);
  const dlq = queue.data?.settings.deadLetterQueue ?? null;
  // A queue's dead letters wait in its dead-letter queue, listed here by the queue they left.
  const dead = useData(
    () =>
      dlq
        ? get<{ messages: Message[] }>(`${path}/dlq${query({ limit: PAGE, after: after[after.length - 1] })}`)
        : Promise.resolve({ messages: [] }),
    `${name}|${dlq}|${after.join(',')}`,
    ['queues'],
  );
  const selection = useSelection();
  const messages = dead.data?.messages ?? [];
  const reload = () => {
    selection.clear();
    queue.reload();
    dead.reload();
  };
  const q = queue.data;
  if (queue.error) return <ErrorBox error={queue.error} />;
  return (
    <>
      <h1>
        Queue <Id value={name} />
      </h1>
      <div class="card-actions page-actions">
        {q && (
          <ActionButton
            title={
              q.paused
                ? 'Let every worker receive from this queue again'
                : 'Stop every worker receiving from this queue; sends are still stored'
            }
            onAction={async () => {
              await post(`${path}/${q.paused ? 'resume' : 'pause'}`);
              reload();
            }}
          >
            {q.paused ? 'Resume' : 'Pause'}
          </ActionButton>
        )}
        <ActionButton
          danger
          confirm={`Delete every message of ${name}? This cannot be undone.`}
          onAction={async () => {
            await api('DELETE', `${path}/messages`);
            reload();
          }}
        >
          Purge
        </ActionButton>
      </div>
      {q && (
        <div class="card">
          <QueueTable queues={[q]} />
          <p class="muted">
            Retry backoff: {q.settings.retry.backoff}, {formatDuration(q.settings.retry.baseMs)} up to{' '}
            {formatDuration(q.settings.retry.maxMs)}.
          </p>
        </div>
      )}
      {dlq === null ? (
        q && (
          <p class="muted">
            {name} has no dead-letter queue: a message that keeps failing is retried until it succeeds.
          </p>
        )
      ) : (
        <Section
          title={`Dead letters (${q?.counts.dead ?? 0}, kept in ${dlq})`}
          actions={
            <>
              <ActionButton
                disabled={selection.selected.size === 0}
                onAction={async () => {
                  await post(`${path}/redrive`, { ids: [...selection.selected] });
                  reload();
                }}
              >
                Redrive selected ({selection.selected.size})
              </ActionButton>
              <ActionButton
                disabled={messages.length === 0}
                confirm={`Move every dead letter of ${name} back to the queue it came from?`}
                onAction={async () => {
                  await post(`${path}/redrive`);
                  reload();
                }}
              >
                Redrive all
              </ActionButton>
            </>
          }
        >
          <ErrorBox error={dead.error} />
          {messages.length === 0 ? (
            <Empty>No dead letters.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>
                      <input
                        type="checkbox"
                        aria-label="Select all"
                        checked={messages.every((m) => selection.selected.has(m.id))}
                        onChange={(e) =>
                          e.currentTarget.checked
                            ? selection.set(messages.map((m) => m.id))
                            : selection.clear()
                        }
                      />
                    </th>
                    <th>Message</th>
                    <th>From</th>
                    <th class="num">Receives</th>
                    <th>Dead since</th>
                    <th>Errors</th>
                    <th>Body</th>
                  </tr>
                </thead>
                <tbody>
                  {messages.map((m) => (
                    <tr data-message={m.id}>
                      <td>
                        <input
                          type="checkbox"
                          aria-label={`Select message ${m.id}`}
                          checked={selection.selected.has(m.id)}
                          onChange={() => selection.toggle(m.id)}
                        />
                      </td>
                      <td>
                        <Id value={m.id} />
                      </td>
                      <td>
                        {m.sourceQueue ? (
                          <a href={href(`/queues/${encodeURIComponent(m.sourceQueue)}`)}>{m.sourceQueue}</a>
                        ) : (
                          '—'
                        )}
                      </td>
                      <td class="num">{m.receiveCount}</td>
                      <td>
                        <Time at={m.deadAt} />
                      </td>
                      <td class="err">
                        <ol class="errors">
                          {m.errors.map((e) => (
                            <li>{errorText(e)}</li>
                          ))}
                        </ol>
                      </td>
                      <td>
                        <Json value={m.body} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <nav class="pager" aria-label="Pages">
            <button
              type="button"
              disabled={after.length === 0}
              onClick={() => setAfter((a) => a.slice(0, -1))}
            >
              ← Earlier
            </button>
            <button
              type="button"
              disabled={messages.length < PAGE}
              onClick={() => setAfter((a) => [...a, messages[messages.length - 1]!.id])}
            >
              Later →
            </button>
          </nav>
        </Section>
      )}
    </>
  );
}

function errorText(e: unknown): string {
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    const msg = typeof o['message'] === 'string' ? o['message'] : JSON.stringify(e);
    return `${typeof o['name'] === 'string' ? `${o['name']}: ` : ''}${msg}`;
  }
  return String(e);
}
