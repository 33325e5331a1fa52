// Plans of several files become one: the same queue or function named in two files (an
// Amplify function's resource.ts and the backend.ts rule that schedules it, a queue and the
// file whose worker consumes it) is one item; two different items that would share a name
// are kept apart by renaming the later one, with a note.

import {
  emptyPlan,
  type ImportedFunction,
  type ImportedQueue,
  type ImportedRule,
  type ImportPlan,
  type Origin,
} from './model.ts';

export function mergePlans(plans: readonly ImportPlan[]): ImportPlan {
  const out = emptyPlan();
  for (const p of plans) out.report.push(...p.report);
  const queues = new Map<string, ImportedQueue>();
  const functions = new Map<string, ImportedFunction>();
  const rules = new Map<string, ImportedRule>();
  const renamedQueues = new Map<string, string>();

  for (const p of plans) {
    for (const q of p.queues) {
      const had = queues.get(q.name);
      // A queue another file only refers to (no settings of its own) is the same queue.
      if (!had) queues.set(q.name, q);
      else if (sameItem(had.origin, q.origin) || hasNoSettings(q) || hasNoSettings(had))
        queues.set(
          q.name,
          hasNoSettings(had) ? { ...q, ...defined(had), ...defined(q) } : { ...had, ...defined(q) },
        );
      else {
        const name = freeName(q.name, queues, 80);
        renamedQueues.set(`${q.origin.file}\0${q.name}`, name);
        queues.set(name, { ...q, name });
        out.report.push(renamed(q.origin, 'queue', q.name, name));
      }
    }
  }
  const queueName = (origin: Origin, name: string) => renamedQueues.get(`${origin.file}\0${name}`) ?? name;

  for (const p of plans) {
    for (const raw of p.functions) {
      const f = renameQueues(raw, queueName);
      const had = functions.get(f.name);
      if (!had) functions.set(f.name, f);
      else if (sameItem(had.origin, f.origin) || isReference(had, f) || isReference(f, had)) {
        // One function described in two places (Amplify's resource.ts and backend.ts): its
        // settings from whichever has them, the triggers of both.
        const first = isReference(had, f) ? f : had;
        const second = first === had ? f : had;
        functions.set(f.name, {
          ...second,
          ...defined(first),
          triggers: [...first.triggers, ...second.triggers],
        } as ImportedFunction);
      } else {
        const name = freeName(f.name, functions, 100);
        functions.set(name, { ...f, name });
        out.report.push(renamed(f.origin, 'function', f.name, name));
      }
    }
    for (const r of p.rules) {
      const had = rules.get(r.name);
      if (!had) rules.set(r.name, r);
      else {
        const name = freeName(r.name, rules, 40);
        rules.set(name, { ...r, name });
        out.report.push(renamed(r.origin, 'rule', r.name, name));
      }
    }
  }
  // A warning that a function is only named here is moot once another file defined it.
  const hasHandler = (name: string) => {
    const f = functions.get(name);
    return f?.kind === 'handler' && f.handlerFile !== undefined;
  };
  out.report.splice(
    0,
    out.report.length,
    ...out.report.filter((l) => !(l.whileStub && hasHandler(l.whileStub))),
  );
  out.queues.push(...queues.values());
  out.functions.push(...functions.values());
  out.rules.push(...rules.values());
  return out;
}

function renameQueues(f: ImportedFunction, queueName: (o: Origin, n: string) => string): ImportedFunction {
  const triggers = f.triggers.map((t) =>
    t.kind === 'queue' ? { ...t, queue: queueName(f.origin, t.queue) } : t,
  );
  return f.kind === 'send' ? { ...f, queue: queueName(f.origin, f.queue), triggers } : { ...f, triggers };
}

/** `a` only names a Lambda function `b` describes (a backend.ts rule's target, an ARN). */
function isReference(a: ImportedFunction, b: ImportedFunction): boolean {
  return a.kind === 'handler' && b.kind === 'handler' && !a.handlerFile;
}

function hasNoSettings(q: ImportedQueue): boolean {
  return (
    q.visibilityTimeoutSeconds === undefined &&
    q.delaySeconds === undefined &&
    q.maxReceiveCount === undefined &&
    q.deadLetterQueue === undefined &&
    q.fifo === undefined
  );
}

function sameItem(a: Origin, b: Origin): boolean {
  return a.file === b.file && a.item === b.item;
}

/** The fields of `o` that are set: spreading it over another object keeps that one's values where `o` has none. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function freeName(name: string, taken: ReadonlyMap<string, unknown>, max: number): string {
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const candidate = `${name.slice(0, max - suffix.length)}${suffix}`;
    if (!taken.has(candidate)) return candidate;
  }
}

function renamed(origin: Origin, kind: string, from: string, to: string) {
  return {
    origin,
    outcome: 'noted' as const,
    message: `another ${kind} is already named "${from}": this one is "${to}"`,
  };
}
