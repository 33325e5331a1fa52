// One change stream per page (GET /v1/changes): the server sends a mark per topic when
// something under it changed, and a view reloads what it shows when a topic it reads
// moved, at most once a second, so a burst of runs is one reload, not a storm.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';
import { stream } from './sse.ts';

export type Topic = 'runs' | 'queues' | 'schedules' | 'tasks' | 'workflows' | 'events';
type Marks = Partial<Record<Topic, string>>;

type Listener = (marks: Marks) => void;
const listeners = new Set<Listener>();
let marks: Marks = {};
let connected = false;
const stateListeners = new Set<(c: boolean) => void>();

/** Starts the page's one change stream (from main.tsx; ends with the page). */
export function startChanges(signal: AbortSignal): void {
  void stream('/v1/changes', {
    signal,
    onState: (c) => {
      connected = c;
      for (const l of stateListeners) l(c);
    },
    onEvent: (e) => {
      if (e.event !== 'changes') return;
      marks = JSON.parse(e.data) as Marks;
      for (const l of listeners) l(marks);
    },
  });
}

export function useConnected(): boolean {
  const [c, setC] = useState(connected);
  useEffect(() => {
    stateListeners.add(setC);
    return () => void stateListeners.delete(setC);
  }, []);
  return c;
}

const MIN_RELOAD_GAP_MS = 1000;

// Loads under way, on <html data-loading="n">: tests and the page-speed benchmark wait for 0.
let inFlight = 0;
function countLoad(delta: number): void {
  inFlight += delta;
  document.documentElement.dataset['loading'] = String(inFlight);
}

export interface Data<T> {
  readonly data: T | undefined;
  readonly error: ApiError | undefined;
  readonly loading: boolean;
  /** Loads again now (after an action). */
  readonly reload: () => void;
}

/**
 * Loads with `load` when `key` changes, and again when one of `topics` changes on the
 * server. The previous data stays on screen while a reload runs.
 *
 * Each load notes the marks known when it started; a view reloads when a topic's mark
 * differs from those, so data loaded before the stream's first message (or while it was
 * down) is reloaded once the marks arrive, and data loaded after them is not.
 */
export function useData<T>(load: () => Promise<T>, key: string, topics: readonly Topic[]): Data<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({ loading: true });
  const loadRef = useRef(load);
  loadRef.current = load;
  const seq = useRef(0);
  const lastAt = useRef(0);
  const loadedUnder = useRef<Marks>({});
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const run = useCallback(() => {
    const mine = ++seq.current;
    lastAt.current = Date.now();
    loadedUnder.current = marks;
    setState((s) => ({ ...s, loading: true }));
    countLoad(1);
    loadRef
      .current()
      .finally(() => countLoad(-1))
      .then(
        (data) => mine === seq.current && setState({ data, loading: false }),
        (err: unknown) =>
          mine === seq.current &&
          setState((s) => ({
            ...s,
            loading: false,
            error: err instanceof ApiError ? err : new ApiError(0, 'E_CLIENT', String(err)),
          })),
      );
  }, []);

  useEffect(() => {
    setState({ loading: true });
    run();
  }, [key, run]);

  useEffect(() => {
    const listener: Listener = (next) => {
      if (!topics.some((t) => next[t] !== loadedUnder.current[t])) return;
      if (pending.current) return;
      const wait = Math.max(0, lastAt.current + MIN_RELOAD_GAP_MS - Date.now());
      pending.current = setTimeout(() => {
        pending.current = undefined;
        run();
      }, wait);
    };
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      clearTimeout(pending.current);
      pending.current = undefined;
    };
  }, [topics.join(','), run]);

  return { data: state.data, error: state.error, loading: state.loading, reload: run };
}
