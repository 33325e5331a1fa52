// The dashboard's shell: asks for the token when the server wants one, learns what the
// token may do, opens the page's one change stream and shows the view the hash names.
import type { ComponentType } from 'preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type AccessInfo, type ApiError, get, getToken, onUnauthorized, setToken } from './api.ts';
import { startChanges, useConnected } from './live.ts';
import { EventsPage } from './pages/events.tsx';
import { ExecutionPage } from './pages/execution.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { QueuePage } from './pages/queue.tsx';
import { QueuesPage } from './pages/queues.tsx';
import { RunPage } from './pages/run.tsx';
import { RunsPage } from './pages/runs.tsx';
import { SchedulesPage } from './pages/schedules.tsx';
import { TasksPage } from './pages/tasks.tsx';
import { WorkflowsPage } from './pages/workflows.tsx';
import { type PageProps, useRoute } from './route.ts';
import { AccessContext, ErrorBox, setServerNow } from './ui.tsx';
import './style.css';

const NAV: readonly [path: string, label: string][] = [
  ['/', 'Overview'],
  ['/runs', 'Runs'],
  ['/schedules', 'Schedules'],
  ['/tasks', 'Tasks'],
  ['/queues', 'Queues'],
  ['/workflows', 'Workflows'],
  ['/events', 'Events'],
];

/** The page for a route: `[section, id?]`. */
function pageFor(parts: readonly string[]): ComponentType<PageProps> | undefined {
  const [section, id] = parts;
  switch (section) {
    case undefined:
      return OverviewPage;
    case 'runs':
      return id ? RunPage : RunsPage;
    case 'schedules':
      return SchedulesPage;
    case 'tasks':
      return TasksPage;
    case 'queues':
      return id ? QueuePage : QueuesPage;
    case 'workflows':
      return WorkflowsPage;
    case 'executions':
      return ExecutionPage;
    case 'events':
      return EventsPage;
    default:
      return undefined;
  }
}

function TokenForm({ wrong, onDone }: { wrong: boolean; onDone: () => void }) {
  const [value, setValue] = useState('');
  const [remember, setRemember] = useState(false);
  return (
    <main class="login">
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          setToken(value.trim(), remember);
          onDone();
        }}
      >
        <h1>mainspring</h1>
        <p>
          This server asks for an API token (MAINSPRING_API_TOKEN, or the read-only
          MAINSPRING_API_READ_TOKEN).
        </p>
        {wrong && (
          <p class="error-inline" role="alert">
            The server refused that token.
          </p>
        )}
        <label>
          API token
          <input
            type="password"
            autoComplete="current-password"
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
            required
          />
        </label>
        <label class="check">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.currentTarget.checked)} />
          Remember on this device
        </label>
        <button type="submit">Open the dashboard</button>
      </form>
    </main>
  );
}

function App() {
  const route = useRoute();
  const [info, setInfo] = useState<AccessInfo | undefined>();
  const [state, setState] = useState<'loading' | 'token' | 'wrong-token' | 'ready' | 'down'>('loading');
  const [error, setError] = useState<ApiError | undefined>();
  const [attempt, setAttempt] = useState(0);
  const connected = useConnected();

  useEffect(() => {
    get<AccessInfo>('/v1/access').then(
      (i) => {
        if (i.access === 'none') {
          setState(getToken() ? 'wrong-token' : 'token');
          return;
        }
        setServerNow(i.now);
        setInfo(i);
        setState('ready');
      },
      (err: ApiError) => {
        if (err.status === 401) setState(getToken() ? 'wrong-token' : 'token');
        else {
          setError(err);
          setState('down');
        }
      },
    );
  }, [attempt]);

  useEffect(() => onUnauthorized(() => setState(getToken() ? 'wrong-token' : 'token')), []);

  useEffect(() => {
    if (state !== 'ready') return;
    const stop = new AbortController();
    startChanges(stop.signal);
    return () => stop.abort();
  }, [state]);

  if (state === 'token' || state === 'wrong-token') {
    return <TokenForm wrong={state === 'wrong-token'} onDone={() => setAttempt((n) => n + 1)} />;
  }
  const Page = pageFor(route.parts);
  const section = `/${route.parts[0] ?? ''}`;
  return (
    <AccessContext.Provider value={info?.access ?? 'read'}>
      <header class="top">
        <a class="brand" href="#/">
          mainspring
        </a>
        <nav class="main-nav" aria-label="Sections">
          {NAV.map(([path, label]) => (
            <a href={`#${path}`} aria-current={path === section ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="top-right">
          {info?.access === 'read' && <span class="badge read-only">read-only</span>}
          <span
            class={`live ${connected ? 'on' : 'off'}`}
            title={connected ? 'Live updates on' : 'Reconnecting…'}
          >
            {connected ? '● live' : '○ reconnecting'}
          </span>
          {info?.auth && (
            <button
              type="button"
              class="link"
              onClick={() => {
                setToken(null);
                setState('token');
              }}
            >
              Sign out
            </button>
          )}
        </span>
      </header>
      <main id="main">
        {state === 'down' && (
          <>
            <ErrorBox error={error} />
            <button type="button" onClick={() => setAttempt((n) => n + 1)}>
              Try again
            </button>
          </>
        )}
        {state === 'ready' && Page && <Page route={route} />}
        {state === 'ready' && !Page && (
          <p>
            No such page. Go to the <a href="#/">overview</a>.
          </p>
        )}
      </main>
    </AccessContext.Provider>
  );
}

render(<App />, document.getElementById('app')!);
