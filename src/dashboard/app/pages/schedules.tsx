// #/schedules: each schedule's expression as written and in words, its zone, next five
// ticks and last run; enable, disable, run now, and edit expression and zone (API-made
// schedules; a config's schedules are edited in the config).
import { useState } from 'preact/hooks';
import { ApiError, api, get, post } from '../api.ts';
import { useData } from '../live.ts';
import { href, type PageProps } from '../route.ts';
import type { Schedule } from '../types.ts';
import { ActionButton, Empty, ErrorBox, Relative, Status, Time, useAccess } from '../ui.tsx';

export function SchedulesPage(_props: PageProps) {
  const schedules = useData(() => get<{ schedules: Schedule[] }>('/v1/schedules?limit=500'), 'schedules', [
    'schedules',
    'runs',
  ]);
  const [open, setOpen] = useState<string | undefined>();
  const list = schedules.data?.schedules ?? [];
  return (
    <>
      <h1>Schedules</h1>
      <ErrorBox error={schedules.error} />
      <div class="card">
        {list.length === 0 && !schedules.loading ? (
          <Empty>No schedules.</Empty>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Schedule</th>
                  <th>Expression</th>
                  <th>Zone</th>
                  <th>State</th>
                  <th>Next tick</th>
                  <th>Last run</th>
                  <th>Actions</th>
                </tr>
              </thead>
              <tbody>
                {list.map((s) => (
                  <ScheduleRow
                    schedule={s}
                    open={open === s.name}
                    onToggle={() => setOpen(open === s.name ? undefined : s.name)}
                    reload={schedules.reload}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </>
  );
}

function ScheduleRow({
  schedule: s,
  open,
  onToggle,
  reload,
}: {
  schedule: Schedule;
  open: boolean;
  onToggle: () => void;
  reload: () => void;
}) {
  const path = `/v1/schedules/${encodeURIComponent(s.name)}`;
  const [editing, setEditing] = useState(false);
  const [ran, setRan] = useState<string | undefined>();
  const access = useAccess();
  return (
    <>
      <tr data-schedule={s.name}>
        <td>
          <button type="button" class="link" aria-expanded={open} onClick={onToggle}>
            {s.name}
          </button>
          {s.description && <div class="muted">{s.description}</div>}
        </td>
        <td>
          <code>{s.expression}</code>
          <div class="muted">{s.summary}</div>
        </td>
        <td>{s.timezone}</td>
        <td>
          <Status status={s.state.ended ? 'ended' : s.enabled ? 'enabled' : 'disabled'} />
          <div class="muted">{s.source === 'config' ? 'from the config' : 'made by the API'}</div>
        </td>
        <td>
          {s.state.nextTick ? (
            <>
              <Time at={s.state.nextTick} />
              <div class="muted">
                <Relative at={s.state.nextTick} />
              </div>
            </>
          ) : (
            '—'
          )}
        </td>
        <td>
          {s.state.lastRun ? (
            <a href={href(`/runs/${encodeURIComponent(s.state.lastRun.id)}`)}>
              <Status status={s.state.lastRun.status} />
            </a>
          ) : (
            <span class="muted">never</span>
          )}
          {s.state.lastTick && (
            <div class="muted">
              <Time at={s.state.lastTick} />
            </div>
          )}
        </td>
        <td class="actions">
          <ActionButton
            onAction={async () => {
              await post(`${path}/${s.enabled ? 'disable' : 'enable'}`);
              reload();
            }}
          >
            {s.enabled ? 'Disable' : 'Enable'}
          </ActionButton>
          <ActionButton
            onAction={async () => {
              const r = await post<{ runId?: string; messageId?: string; executionId?: string }>(
                `${path}/run`,
              );
              setRan(
                r.runId
                  ? `run ${r.runId}`
                  : r.messageId
                    ? `message ${r.messageId}`
                    : `execution ${r.executionId}`,
              );
              reload();
            }}
          >
            Run now
          </ActionButton>
          {s.source === 'api' && (
            <button type="button" disabled={access === 'read'} onClick={() => setEditing(!editing)}>
              Edit
            </button>
          )}
          {ran && (
            <div class="muted" role="status">
              Started {ran}
            </div>
          )}
        </td>
      </tr>
      {editing && (
        <tr>
          <td colSpan={7}>
            <EditForm
              schedule={s}
              onDone={() => {
                setEditing(false);
                reload();
              }}
            />
          </td>
        </tr>
      )}
      {open && (
        <tr>
          <td colSpan={7}>
            <NextTicks name={s.name} />
          </td>
        </tr>
      )}
    </>
  );
}

function NextTicks({ name }: { name: string }) {
  const next = useData(
    () => get<{ next: string[] }>(`/v1/schedules/${encodeURIComponent(name)}/next?count=5`),
    name,
    ['schedules'],
  );
  return (
    <div>
      <strong>Next 5 ticks</strong>
      <ol class="ticks">
        {(next.data?.next ?? []).map((t) => (
          <li>
            <Time at={t} /> <span class="muted">({t.replace('.000Z', 'Z')})</span>
          </li>
        ))}
      </ol>
    </div>
  );
}

function EditForm({ schedule: s, onDone }: { schedule: Schedule; onDone: () => void }) {
  const [expression, setExpression] = useState(s.expression);
  const [timezone, setTimezone] = useState(s.timezone);
  const [error, setError] = useState<ApiError | undefined>();
  // A zone error names `timezone`; anything else the server finds is in the expression
  // (it may name the part, e.g. `minutes`, shown in the message).
  const fieldError = (field: 'expression' | 'timezone') =>
    error && (error.field === 'timezone') === (field === 'timezone') ? (
      <span class="field-error" role="alert">
        {error.message}
      </span>
    ) : null;
  return (
    <form
      class="filters"
      aria-label={`Edit ${s.name}`}
      onSubmit={async (e) => {
        e.preventDefault();
        setError(undefined);
        try {
          await api('PATCH', `/v1/schedules/${encodeURIComponent(s.name)}`, { expression, timezone });
          onDone();
        } catch (err) {
          setError(err instanceof ApiError ? err : new ApiError(0, 'E_CLIENT', String(err)));
        }
      }}
    >
      <label>
        Expression
        <input
          value={expression}
          onInput={(e) => setExpression(e.currentTarget.value)}
          aria-invalid={Boolean(fieldError('expression'))}
        />
        {fieldError('expression')}
      </label>
      <label>
        Time zone
        <input value={timezone} onInput={(e) => setTimezone(e.currentTarget.value)} />
        {fieldError('timezone')}
      </label>
      <button type="submit">Save</button>
      <button type="button" onClick={onDone}>
        Cancel
      </button>
    </form>
  );
}
