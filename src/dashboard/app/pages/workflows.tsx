// #/workflows: executions by workflow and several statuses at once, with their progress
// (ctx.progress), what they wait for and when that ends.
import { get, query } from '../api.ts';
import { useData } from '../live.ts';
import { useCursor } from '../paging.ts';
import { href, type PageProps, setQuery } from '../route.ts';
import { type Execution, progressOf } from '../types.ts';
import {
  Duration,
  Empty,
  ErrorBox,
  Id,
  Pager,
  Progress,
  Relative,
  Status,
  StatusFilter,
  serverNow,
  Time,
} from '../ui.tsx';

const STATUSES = ['running', 'waiting', 'succeeded', 'failed', 'stopped', 'timed_out'] as const;

export function WorkflowsPage({ route }: PageProps) {
  const q = route.query;
  const filters = {
    workflow: q.get('workflow') ?? undefined,
    status: (q.get('status') ?? '').split(',').filter(Boolean),
  };
  const key = JSON.stringify(filters);
  const paging = useCursor(key);
  const defs = useData(() => get<{ workflows: { name: string }[] }>('/v1/workflows'), 'defs', []);
  const executions = useData(
    () =>
      get<{ executions: Execution[]; nextCursor: string | null }>(
        `/v1/executions${query({ ...filters, cursor: paging.cursor })}`,
      ),
    `${key}|${paging.cursor ?? ''}`,
    ['workflows'],
  );
  const set = (patch: Partial<typeof filters>) => setQuery('/workflows', { ...filters, ...patch });
  const list = executions.data?.executions ?? [];
  return (
    <>
      <h1>Workflows</h1>
      <form class="filters card" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Workflow
          <select
            value={filters.workflow ?? ''}
            onChange={(e) => set({ workflow: e.currentTarget.value || undefined })}
          >
            <option value="">any</option>
            {defs.data?.workflows.map((w) => (
              <option value={w.name}>{w.name}</option>
            ))}
          </select>
        </label>
        <StatusFilter statuses={STATUSES} selected={filters.status} onChange={(status) => set({ status })} />
      </form>
      <ErrorBox error={executions.error} />
      <div class="card">
        {list.length === 0 && !executions.loading ? (
          <Empty>No executions match.</Empty>
        ) : (
          <div class="table-wrap">
            <ExecutionTable executions={list} />
          </div>
        )}
        <Pager paging={paging} next={executions.data?.nextCursor} />
      </div>
    </>
  );
}

export function ExecutionTable({ executions }: { executions: readonly Execution[] }) {
  return (
    <table>
      <thead>
        <tr>
          <th>Execution</th>
          <th>Workflow</th>
          <th>Status</th>
          <th>Progress</th>
          <th>Waiting for</th>
          <th>Started</th>
          <th>Duration</th>
        </tr>
      </thead>
      <tbody>
        {executions.map((e) => {
          const p = progressOf(e.progress);
          const end = e.finishedAt ? new Date(e.finishedAt).getTime() : serverNow();
          return (
            <tr data-execution={e.id}>
              <td>
                <Id value={e.id} href={href(`/executions/${encodeURIComponent(e.id)}`)} />
              </td>
              <td>{e.workflow}</td>
              <td>
                <Status status={e.status} />
                {e.error && <div class="err">{e.error.message}</div>}
              </td>
              <td>
                <Progress value={p.value} label={p.label} />
              </td>
              <td>
                {e.wait ? (
                  <>
                    {e.wait.kind} <span class="muted">{e.wait.name}</span>
                    {e.wait.until && (
                      <div>
                        <Relative at={e.wait.until} />
                      </div>
                    )}
                  </>
                ) : (
                  '—'
                )}
              </td>
              <td>
                <Time at={e.startedAt ?? e.createdAt} />
              </td>
              <td>
                <Duration ms={end - new Date(e.startedAt ?? e.createdAt).getTime()} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
