// #/tasks: the slow-scheduler editor — tasks due months ahead, listed and filtered by due
// range, action and status; created or overwritten by id; deleted. Due times are shown in
// the viewer's zone and in UTC side by side.
import { useState } from 'preact/hooks';
import { ApiError, api, get, post, query } from '../api.ts';
import { useData } from '../live.ts';
import { fromLocalInput, toLocalInput, useCursor } from '../paging.ts';
import { href, type PageProps, setQuery } from '../route.ts';
import type { Task } from '../types.ts';
import {
  ActionButton,
  Empty,
  ErrorBox,
  Id,
  InstantField,
  Json,
  Pager,
  Status,
  Time,
  useAccess,
  viewerZone,
} from '../ui.tsx';

export function TasksPage({ route }: PageProps) {
  const q = route.query;
  const filters = {
    action: q.get('action') ?? undefined,
    status: q.get('status') ?? undefined,
    dueAfter: q.get('dueAfter') ?? undefined,
    dueBefore: q.get('dueBefore') ?? undefined,
  };
  const key = JSON.stringify(filters);
  const paging = useCursor(key);
  const fns = useData(() => get<{ functions: { name: string }[] }>('/v1/functions'), 'fns', []);
  const tasks = useData(
    () =>
      get<{ tasks: Task[]; nextCursor: string | null }>(
        `/v1/tasks${query({ ...filters, cursor: paging.cursor })}`,
      ),
    `${key}|${paging.cursor ?? ''}`,
    ['tasks'],
  );
  const set = (patch: Partial<typeof filters>) => setQuery('/tasks', { ...filters, ...patch });
  const [editing, setEditing] = useState<Task | null>(null);
  const list = tasks.data?.tasks ?? [];
  const functions = fns.data?.functions.map((f) => f.name) ?? [];
  return (
    <>
      <h1>Tasks</h1>
      <TaskForm
        key={editing?.id ?? 'new'}
        task={editing}
        functions={functions}
        onDone={() => {
          setEditing(null);
          tasks.reload();
        }}
      />
      <form class="filters card" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Action
          <select
            value={filters.action ?? ''}
            onChange={(e) => set({ action: e.currentTarget.value || undefined })}
          >
            <option value="">any</option>
            {functions.map((f) => (
              <option value={f}>{f}</option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select
            value={filters.status ?? ''}
            onChange={(e) => set({ status: e.currentTarget.value || undefined })}
          >
            <option value="">any</option>
            <option value="pending">pending</option>
            <option value="fired">fired</option>
          </select>
        </label>
        <InstantField label="Due from" value={filters.dueAfter} onChange={(dueAfter) => set({ dueAfter })} />
        <InstantField
          label="Due before"
          value={filters.dueBefore}
          onChange={(dueBefore) => set({ dueBefore })}
        />
      </form>
      <ErrorBox error={tasks.error} />
      <div class="card">
        {list.length === 0 && !tasks.loading ? (
          <Empty>No tasks match.</Empty>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Task</th>
                  <th>Action</th>
                  <th>Due ({viewerZone()})</th>
                  <th>Due (UTC)</th>
                  <th>Status</th>
                  <th>Payload</th>
                  <th>Actions</th>
                </tr>
              </thead>
              <tbody>
                {list.map((t) => (
                  <tr data-task={t.id}>
                    <td>
                      <Id value={t.id} />
                    </td>
                    <td>{t.action}</td>
                    <td>
                      <Time at={t.due} />
                    </td>
                    <td class="mono">{t.due.replace('.000Z', 'Z')}</td>
                    <td>
                      <Status status={t.status} />
                      {t.runId && (
                        <div>
                          <a href={href(`/runs/${encodeURIComponent(t.runId)}`)}>its run</a>
                        </div>
                      )}
                    </td>
                    <td>
                      <details>
                        <summary>JSON</summary>
                        <Json value={t.payload} />
                      </details>
                    </td>
                    <td class="actions">
                      <button type="button" onClick={() => setEditing(t)}>
                        Edit
                      </button>
                      <ActionButton
                        danger
                        confirm={`Delete task ${t.id}?`}
                        onAction={async () => {
                          await api('DELETE', `/v1/tasks/${encodeURIComponent(t.id)}`);
                          tasks.reload();
                        }}
                      >
                        Delete
                      </ActionButton>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager paging={paging} next={tasks.data?.nextCursor} />
      </div>
    </>
  );
}

/** Create, or overwrite by id (the API upserts): the same form for both. */
function TaskForm({
  task,
  functions,
  onDone,
}: {
  task: Task | null;
  functions: readonly string[];
  onDone: () => void;
}) {
  const access = useAccess();
  const [id, setId] = useState(task?.id ?? '');
  const [action, setAction] = useState(task?.action ?? '');
  const [due, setDue] = useState(toLocalInput(task?.due));
  const [payload, setPayload] = useState(task ? JSON.stringify(task.payload ?? null, null, 2) : '{}');
  const [error, setError] = useState<ApiError | undefined>();
  const dueIso = fromLocalInput(due);
  const errorFor = (field: string) =>
    error?.field === field ? (
      <span class="field-error" role="alert">
        {error.message}
      </span>
    ) : null;
  return (
    <form
      class="card filters"
      aria-label={task ? `Edit task ${task.id}` : 'New task'}
      onSubmit={async (e) => {
        e.preventDefault();
        setError(undefined);
        let body: unknown;
        try {
          body = payload.trim() === '' ? undefined : JSON.parse(payload);
        } catch (err) {
          setError(
            new ApiError(0, 'E_VALIDATION', `payload is not JSON: ${(err as Error).message}`, {
              field: 'payload',
            }),
          );
          return;
        }
        try {
          await post('/v1/tasks', {
            id,
            action,
            due: dueIso ?? due,
            ...(body !== undefined ? { payload: body } : {}),
          });
          onDone();
        } catch (err) {
          setError(err instanceof ApiError ? err : new ApiError(0, 'E_CLIENT', String(err)));
        }
      }}
    >
      <h2 class="full">
        {task ? `Edit ${task.id} (saving overwrites it)` : 'New task, or overwrite one by its id'}
      </h2>
      <label>
        Id
        <input value={id} onInput={(e) => setId(e.currentTarget.value)} required maxLength={200} />
        {errorFor('id')}
      </label>
      <label>
        Action
        <select value={action} onChange={(e) => setAction(e.currentTarget.value)} required>
          <option value="">choose a function</option>
          {functions.map((f) => (
            <option value={f}>{f}</option>
          ))}
        </select>
        {errorFor('action')}
      </label>
      <label>
        Due ({viewerZone()})
        <input type="datetime-local" value={due} onInput={(e) => setDue(e.currentTarget.value)} required />
        <span class="muted" data-utc>
          {dueIso ? `${dueIso.replace('.000Z', 'Z')} UTC` : ''}
        </span>
        {errorFor('due')}
      </label>
      <label class="wide">
        Payload (JSON)
        <textarea value={payload} onInput={(e) => setPayload(e.currentTarget.value)} rows={3} />
        {errorFor('payload')}
      </label>
      {error && !['id', 'action', 'due', 'payload'].includes(error.field ?? '') && <ErrorBox error={error} />}
      <button
        type="submit"
        disabled={access === 'read'}
        title={access === 'read' ? 'Read-only token' : undefined}
      >
        Save task
      </button>
      {task && (
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      )}
    </form>
  );
}
