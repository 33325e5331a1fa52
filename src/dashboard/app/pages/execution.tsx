// #/executions/<id>: status, progress, current wait, input/output/error, and the operation
// timeline (each step, wait, callback and child on one time axis, nested under its parent);
// stop, and complete a waiting callback.
import { useState } from 'preact/hooks';
import { ApiError, get, post } from '../api.ts';
import { useData } from '../live.ts';
import { href, type PageProps } from '../route.ts';
import { type Execution, type Operation, progressOf } from '../types.ts';
import {
  ActionButton,
  Duration,
  ErrorBox,
  Id,
  Json,
  Progress,
  Relative,
  Section,
  Status,
  serverNow,
  Time,
  useAccess,
} from '../ui.tsx';

export function ExecutionPage({ route }: PageProps) {
  const id = route.parts[1]!;
  const path = `/v1/executions/${encodeURIComponent(id)}`;
  const execution = useData(() => get<Execution>(path), id, ['workflows']);
  const history = useData(() => get<{ operations: Operation[] }>(`${path}/history`), id, ['workflows']);
  const e = execution.data;
  if (execution.error) return <ErrorBox error={execution.error} />;
  if (!e) return <p>Loading…</p>;
  const p = progressOf(e.progress);
  const finished = ['succeeded', 'failed', 'stopped', 'timed_out'].includes(e.status);
  const ops = history.data?.operations ?? [];
  const waiting = ops.filter((o) => o.callbackId && o.status === 'waiting');
  return (
    <>
      <h1>
        Execution <Id value={e.id} /> <Status status={e.status} />
      </h1>
      <div class="card-actions page-actions">
        <ActionButton
          danger
          disabled={finished}
          confirm={`Stop execution ${e.id}? It runs no further operation.`}
          onAction={async () => {
            await post(`${path}/stop`);
            execution.reload();
          }}
        >
          Stop
        </ActionButton>
      </div>
      <div class="grid">
        <Section title="Execution">
          <dl class="facts">
            <dt>Workflow</dt>
            <dd>
              <a href={href('/workflows', { workflow: e.workflow })}>{e.workflow}</a>
            </dd>
            <dt>Progress</dt>
            <dd>
              <Progress value={p.value} label={p.label} />
            </dd>
            <dt>Waiting for</dt>
            <dd>
              {e.wait ? (
                <>
                  {e.wait.kind} “{e.wait.name}”{' '}
                  {e.wait.until && (
                    <>
                      until <Time at={e.wait.until} /> (<Relative at={e.wait.until} />)
                    </>
                  )}
                </>
              ) : (
                '—'
              )}
            </dd>
            <dt>Created</dt>
            <dd>
              <Time at={e.createdAt} />
            </dd>
            <dt>Finished</dt>
            <dd>
              <Time at={e.finishedAt} />
            </dd>
            <dt>Operations</dt>
            <dd>{e.operations}</dd>
          </dl>
        </Section>
        <Section title="Input">
          <Json value={e.input} />
        </Section>
        {e.output !== undefined && (
          <Section title="Output">
            <Json value={e.output} />
          </Section>
        )}
        {e.error && (
          <Section title="Error">
            <p class="err">
              <strong>{e.error.name}</strong>: {e.error.message}
            </p>
          </Section>
        )}
      </div>
      {waiting.map((o) => (
        <CallbackForm
          operation={o}
          onDone={() => {
            execution.reload();
            history.reload();
          }}
        />
      ))}
      <Section title="Timeline">
        <Timeline operations={ops} />
      </Section>
      {e.progress !== null && (
        <Section title="Progress value">
          <Json value={e.progress} />
        </Section>
      )}
    </>
  );
}

function Timeline({ operations }: { operations: readonly Operation[] }) {
  if (operations.length === 0) return <p class="empty">No operations yet.</p>;
  const start = Math.min(...operations.map((o) => new Date(o.startedAt).getTime()));
  const end = Math.max(
    serverNow() > start ? Math.min(serverNow(), start + 366 * 86_400_000) : start + 1,
    ...operations.map((o) => new Date(o.finishedAt ?? o.wakeAt ?? o.startedAt).getTime()),
  );
  const span = Math.max(1, end - start);
  const children = new Map<string | null, Operation[]>();
  for (const o of operations) {
    const list = children.get(o.parentId) ?? [];
    list.push(o);
    children.set(o.parentId, list);
  }
  const rows: { op: Operation; depth: number }[] = [];
  const walk = (parent: string | null, depth: number) => {
    for (const op of children.get(parent) ?? []) {
      rows.push({ op, depth });
      walk(op.id, depth + 1);
    }
  };
  walk(null, 0);
  // Operations whose parent is not listed still show, at the top level.
  for (const o of operations) if (!rows.some((r) => r.op === o)) rows.push({ op: o, depth: 0 });
  return (
    <div class="table-wrap">
      <table class="timeline">
        <thead>
          <tr>
            <th>Operation</th>
            <th>Status</th>
            <th class="num">Attempts</th>
            <th>Started</th>
            <th>Took</th>
            <th class="bar-col">
              <Time at={start} /> → <Time at={end} />
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ op, depth }) => {
            const s = new Date(op.startedAt).getTime();
            const f = new Date(
              op.finishedAt ?? op.wakeAt ?? new Date(Math.min(serverNow(), end)).toISOString(),
            ).getTime();
            return (
              <tr data-op={op.id}>
                <td class={`depth-${Math.min(depth, 4)}`}>
                  <span class="badge">{op.type}</span> {op.name}
                  {op.childId && (
                    <div>
                      child <a href={href(`/executions/${encodeURIComponent(op.childId)}`)}>{op.childId}</a>
                    </div>
                  )}
                  {op.callbackId && (
                    <div class="muted">
                      callback <Id value={op.callbackId} />
                    </div>
                  )}
                  {op.error && <div class="err">{op.error.message}</div>}
                </td>
                <td>
                  <Status status={op.status} />
                </td>
                <td class="num">{op.attempts}</td>
                <td>
                  <Time at={op.startedAt} />
                </td>
                <td>
                  {op.finishedAt ? (
                    <Duration ms={f >= s ? f - s : null} />
                  ) : op.wakeAt ? (
                    <Relative at={op.wakeAt} />
                  ) : (
                    '…'
                  )}
                </td>
                <td class="bar-col">
                  <span class="span-track">
                    <span
                      class={`span-bar s-${op.status}`}
                      style={{
                        left: `${((s - start) / span) * 100}%`,
                        width: `${Math.max(0.5, ((f - s) / span) * 100)}%`,
                      }}
                    />
                  </span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function CallbackForm({ operation, onDone }: { operation: Operation; onDone: () => void }) {
  const access = useAccess();
  const [result, setResult] = useState('{}');
  const [message, setMessage] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const cb = encodeURIComponent(operation.callbackId!);
  const act = async (fn: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await fn();
      onDone();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'E_CLIENT', String(err)));
    }
  };
  return (
    <Section title={`Callback “${operation.name}” is waiting`}>
      <form
        class="filters"
        aria-label={`Complete callback ${operation.name}`}
        onSubmit={(e) => e.preventDefault()}
      >
        <label class="wide">
          Result (JSON)
          <textarea value={result} rows={2} onInput={(e) => setResult(e.currentTarget.value)} />
        </label>
        <button
          type="button"
          disabled={access === 'read'}
          onClick={() =>
            act(async () => {
              let value: unknown;
              try {
                value = JSON.parse(result);
              } catch (err) {
                throw new ApiError(0, 'E_VALIDATION', `the result is not JSON: ${(err as Error).message}`);
              }
              await post(`/v1/callbacks/${cb}/succeed`, { result: value });
            })
          }
        >
          Send success
        </button>
        <label>
          Error message
          <input value={message} onInput={(e) => setMessage(e.currentTarget.value)} />
        </label>
        <button
          type="button"
          class="danger"
          disabled={access === 'read' || message.trim() === ''}
          onClick={() => act(() => post(`/v1/callbacks/${cb}/fail`, { error: { message } }))}
        >
          Send failure
        </button>
      </form>
      <ErrorBox error={error} />
    </Section>
  );
}
