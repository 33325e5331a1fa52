// #/events: the events of a time range (default the last 24 h), the stored rules each
// matches and the queues they deliver to; replay a range.
import { useState } from 'preact/hooks';
import { get, post, query } from '../api.ts';
import { useData } from '../live.ts';
import { useCursor } from '../paging.ts';
import { type PageProps, setQuery } from '../route.ts';
import type { BusEvent } from '../types.ts';
import { ActionButton, Empty, ErrorBox, Id, InstantField, Json, Pager, serverNow, Time } from '../ui.tsx';

export function EventsPage({ route }: PageProps) {
  const q = route.query;
  const filters = { from: q.get('from') ?? undefined, to: q.get('to') ?? undefined };
  const key = JSON.stringify(filters);
  const paging = useCursor(key);
  const events = useData(
    () =>
      get<{ events: BusEvent[]; nextCursor: string | null }>(
        `/v1/events${query({ ...filters, cursor: paging.cursor })}`,
      ),
    `${key}|${paging.cursor ?? ''}`,
    ['events'],
  );
  const [replayed, setReplayed] = useState<string | undefined>();
  const set = (patch: Partial<typeof filters>) => setQuery('/events', { ...filters, ...patch });
  const list = events.data?.events ?? [];
  // The server's clock, not this browser's: events carry the server's time.
  const from = filters.from ?? new Date(serverNow() - 86_400_000).toISOString();
  const to = filters.to ?? new Date(serverNow() + 60_000).toISOString();
  return (
    <>
      <h1>Events</h1>
      <form class="filters card" aria-label="Time range" onSubmit={(e) => e.preventDefault()}>
        <InstantField label="From" value={from} onChange={(from) => set({ from })} />
        <InstantField label="To" value={to} onChange={(to) => set({ to })} />
        <ActionButton
          confirm="Send every event of this range to the rules again?"
          onAction={async () => {
            const r = await post<{ events: number; deliveries: number }>('/v1/events/replay', { from, to });
            setReplayed(`Replayed ${r.events} events: ${r.deliveries} deliveries.`);
          }}
        >
          Replay this range
        </ActionButton>
        {replayed && <span role="status">{replayed}</span>}
      </form>
      <ErrorBox error={events.error} />
      <div class="card">
        {list.length === 0 && !events.loading ? (
          <Empty>No events in this range.</Empty>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Event</th>
                  <th>Source</th>
                  <th>Detail type</th>
                  <th>Time</th>
                  <th>Rules matched → queues</th>
                  <th>Detail</th>
                </tr>
              </thead>
              <tbody>
                {list.map((e) => (
                  <tr data-event={e.id}>
                    <td>
                      <Id value={e.id} />
                    </td>
                    <td>{e.source}</td>
                    <td>{e.detailType}</td>
                    <td>
                      <Time at={e.time} />
                      {!e.routedAt && <div class="muted">not routed yet</div>}
                    </td>
                    <td>
                      {e.rules.length === 0 ? (
                        <span class="muted">no rule</span>
                      ) : (
                        <ul class="plain">
                          {e.rules.map((r) => (
                            <li>
                              <strong>{r.name}</strong> → {r.queues.join(', ') || '—'}
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                    <td>
                      <details>
                        <summary>JSON</summary>
                        <Json value={e.detail} />
                      </details>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager paging={paging} next={events.data?.nextCursor} />
      </div>
    </>
  );
}
