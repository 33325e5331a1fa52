// #/runs: every recorded run, paged and filtered on the server; errors in the rows;
// several statuses at once; a search over input, error and log text; bulk retry. Filtered
// to one function: pause or resume it.
import { useState } from 'preact/hooks';
import { get, post, query } from '../api.ts';
import { useData } from '../live.ts';
import { useCursor, useSelection } from '../paging.ts';
import { href, type PageProps, setQuery } from '../route.ts';
import type { Run } from '../types.ts';
import {
  ActionButton,
  Duration,
  Empty,
  ErrorBox,
  Id,
  InstantField,
  Pager,
  Status,
  StatusFilter,
  Time,
} from '../ui.tsx';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled'] as const;
const TRIGGERS = ['manual', 'queue', 'event', 'schedule', 'task', 'webhook'] as const;
const RETRYABLE = new Set(['failed', 'timed_out', 'cancelled']);

export function RunsPage({ route }: PageProps) {
  const q = route.query;
  const filters = {
    function: q.get('function') ?? undefined,
    status: (q.get('status') ?? '').split(',').filter(Boolean),
    trigger: q.get('trigger') ?? undefined,
    from: q.get('from') ?? undefined,
    to: q.get('to') ?? undefined,
    q: q.get('q') ?? undefined,
  };
  const key = JSON.stringify(filters);
  const paging = useCursor(key);
  const selection = useSelection();
  const [search, setSearch] = useState(filters.q ?? '');
  const fns = useData(
    () => get<{ functions: { name: string; paused: boolean; pausedAt: string | null }[] }>('/v1/functions'),
    'fns',
    [],
  );
  const fn = fns.data?.functions.find((f) => f.name === filters.function);
  const runs = useData(
    () =>
      get<{ runs: Run[]; nextCursor: string | null }>(
        `/v1/runs${query({ ...filters, cursor: paging.cursor })}`,
      ),
    `${key}|${paging.cursor ?? ''}`,
    ['runs'],
  );
  const set = (patch: Partial<typeof filters>) => setQuery('/runs', { ...filters, ...patch });
  const list = runs.data?.runs ?? [];
  const retryable = list.filter((r) => selection.selected.has(r.id) && RETRYABLE.has(r.status));

  return (
    <>
      <h1>Runs</h1>
      {fn && (
        <div class="card-actions page-actions">
          {fn.paused && (
            <span class="badge s-paused" title={fn.pausedAt ? `paused since ${fn.pausedAt}` : undefined}>
              {fn.name} paused
            </span>
          )}
          <ActionButton
            title={
              fn.paused
                ? 'Let every worker start runs of this function again'
                : 'Stop every worker starting runs of this function; its work is still stored'
            }
            onAction={async () => {
              await post(`/v1/functions/${encodeURIComponent(fn.name)}/${fn.paused ? 'resume' : 'pause'}`);
              fns.reload();
            }}
          >
            {fn.paused ? `Resume ${fn.name}` : `Pause ${fn.name}`}
          </ActionButton>
        </div>
      )}
      <form
        class="filters card"
        aria-label="Filters"
        onSubmit={(e) => {
          e.preventDefault();
          set({ q: search.trim() || undefined });
        }}
      >
        <label>
          Function
          <select
            value={filters.function ?? ''}
            onChange={(e) => set({ function: e.currentTarget.value || undefined })}
          >
            <option value="">any</option>
            {fns.data?.functions.map((f) => (
              <option value={f.name}>{f.name}</option>
            ))}
          </select>
        </label>
        <StatusFilter statuses={STATUSES} selected={filters.status} onChange={(status) => set({ status })} />
        <label>
          Trigger
          <select
            value={filters.trigger ?? ''}
            onChange={(e) => set({ trigger: e.currentTarget.value || undefined })}
          >
            <option value="">any</option>
            {TRIGGERS.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
        </label>
        <InstantField label="From" value={filters.from} onChange={(from) => set({ from })} />
        <InstantField label="To" value={filters.to} onChange={(to) => set({ to })} />
        <label>
          Search input, errors and logs
          <input
            type="search"
            value={search}
            onInput={(e) => setSearch(e.currentTarget.value)}
            maxLength={200}
          />
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorBox error={runs.error} />
      <div class="card">
        <div class="card-head">
          <h2>
            {runs.loading && !runs.data
              ? 'Loading…'
              : `${list.length}${runs.data?.nextCursor ? '+' : ''} runs`}
          </h2>
          <div class="card-actions">
            <ActionButton
              disabled={retryable.length === 0}
              onAction={async () => {
                for (const r of retryable) await post(`/v1/runs/${encodeURIComponent(r.id)}/retry`);
                selection.clear();
                runs.reload();
              }}
            >
              Retry selected ({retryable.length})
            </ActionButton>
          </div>
        </div>
        {list.length === 0 && !runs.loading ? (
          <Empty>No runs match.</Empty>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>
                    <input
                      type="checkbox"
                      aria-label="Select all"
                      checked={list.length > 0 && list.every((r) => selection.selected.has(r.id))}
                      onChange={(e) =>
                        e.currentTarget.checked ? selection.set(list.map((r) => r.id)) : selection.clear()
                      }
                    />
                  </th>
                  <th>Run</th>
                  <th>Function</th>
                  <th>Status</th>
                  <th>Trigger</th>
                  <th>Created</th>
                  <th>Duration</th>
                  <th>Error</th>
                </tr>
              </thead>
              <tbody>
                {list.map((r) => (
                  <tr data-run={r.id}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Select ${r.id}`}
                        checked={selection.selected.has(r.id)}
                        onChange={() => selection.toggle(r.id)}
                      />
                    </td>
                    <td>
                      <Id value={r.id} href={href(`/runs/${encodeURIComponent(r.id)}`)} />
                    </td>
                    <td>{r.function}</td>
                    <td>
                      <Status status={r.status} />
                    </td>
                    <td>{r.trigger.kind}</td>
                    <td>
                      <Time at={r.createdAt} />
                    </td>
                    <td>
                      <Duration ms={r.durationMs} />
                    </td>
                    <td class="err">{r.error?.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager paging={paging} next={runs.data?.nextCursor} />
      </div>
    </>
  );
}
