// ctx.invoke: a child execution started through the journal; the parent waits for its outcome.

import { MainspringError } from '../../core/errors.ts';
import { captureTraceContext, ROOT_CONTEXT } from '../../observability/tracing.ts';
import { show, type WorkflowDefinition } from '../define.ts';
import { encode, parseResult, rebuild } from '../journal-values.ts';
import { NEVER, type Replay, type Scope } from '../replay.ts';

export async function invoke<O>(
  r: Replay,
  scope: Scope,
  name: string | null,
  workflow: WorkflowDefinition | string,
  input: unknown,
): Promise<O> {
  const target = typeof workflow === 'string' ? workflow : workflow?.name;
  const def = typeof target === 'string' ? r.deps.definitions.get(target) : undefined;
  if (def === undefined) {
    throw new MainspringError(
      'E_WORKFLOW_NOT_FOUND',
      `ctx.invoke: workflow ${show(target)} is not defined in this app; add it to the app's workflows`,
      { details: { field: 'workflow', value: target } },
    );
  }
  const inputText = encode(input === undefined ? null : input, `invoke "${def.name}" input`);
  if (typeof inputText !== 'string') throw inputText;
  const b = r.begin(scope, 'invoke', name ?? def.name);
  if (b === null) return NEVER;
  const e = b.entry;
  if (e?.status === 'succeeded') return parseResult(e.result) as O;
  if (e?.status === 'failed') throw rebuild(e.error);
  const childId = e?.childId ?? `${r.row.id}/${b.id}`;
  // The operation is journaled first: a child finishing at once then finds it to complete.
  if (e === undefined) {
    await r.write(
      r.op(scope, b, 'invoke', {
        status: 'waiting',
        childId,
        detail: JSON.stringify({ workflow: def.name }),
      }),
    );
  }
  r.busy++;
  try {
    const now = r.now();
    await r.deps.journal.start(
      {
        id: childId,
        workflow: def.name,
        version: def.version,
        input: inputText,
        parentId: r.row.id,
        parentOp: b.id,
        timeoutAtMs: def.timeoutMs === null ? null : now + def.timeoutMs,
        // The child's replays are children of this operation's span.
        traceContext: captureTraceContext(r.traceContext(b.id) ?? ROOT_CONTEXT),
      },
      now,
    );
  } finally {
    r.busy--;
  }
  return r.block(b.id, null, { kind: 'invoke', name: b.name });
}
