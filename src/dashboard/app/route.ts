// Hash routes (`#/runs?status=failed`): the server serves one page at `/`, and a
// reload, the back button and a shared link all land on the same view.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** `/runs/abc` → ['runs', 'abc'] */
  readonly parts: readonly string[];
  readonly query: URLSearchParams;
}

function current(): Route {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path = '/', search = ''] = hash.split('?', 2);
  return {
    parts: path.split('/').filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(search),
  };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const onChange = () => setRoute(current());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** `#/path?query` for a link. */
export function href(path: string, query?: Record<string, string | readonly string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    q.set(k, Array.isArray(v) ? v.join(',') : (v as string));
  }
  const s = q.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

/** Changes the view's query (filters) without a new history entry per keystroke. */
export function setQuery(path: string, query: Record<string, string | readonly string[] | undefined>): void {
  history.replaceState(null, '', href(path, query));
  dispatchEvent(new HashChangeEvent('hashchange'));
}

export function navigate(to: string): void {
  location.hash = to.replace(/^#/, '');
}

/** What every page component receives. */
export interface PageProps {
  readonly route: Route;
}
