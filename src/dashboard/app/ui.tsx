// Pieces every page uses: times in the viewer's zone with UTC on hover, human
// durations, copyable ids, status badges, action buttons that know the token's access,
// errors, JSON and pagers.
import type { ButtonHTMLAttributes, ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext, useState } from 'preact/hooks';
import { type Access, ApiError } from './api.ts';
import { type Cursor, fromLocalInput, toLocalInput } from './paging.ts';

export const AccessContext = createContext<Access>('full');
export const useAccess = () => useContext(AccessContext);

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

export function viewerZone(): string {
  return zone;
}

/** An instant in the viewer's zone; UTC in the tooltip. */
export function Time({ at }: { at: string | number | Date | null | undefined }) {
  if (at === null || at === undefined) return <span class="muted">—</span>;
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return <span class="muted">—</span>;
  return (
    <time dateTime={d.toISOString()} title={`${d.toISOString().replace('.000Z', 'Z')} (UTC)`}>
      {dateTime.format(d)}
    </time>
  );
}

/** `1.2 s`, `3 min 4 s`, `2 h 5 min`, `3 d 4 h`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const sign = ms < 0 ? '-' : '';
  let v = Math.abs(ms);
  if (v < 1000) return `${sign}${Math.round(v)} ms`;
  if (v < 60_000) return `${sign}${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`;
  v = Math.round(v / 1000);
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3600],
    ['min', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  for (const [unit, size] of units) {
    if (v >= size && parts.length < 2) {
      parts.push(`${Math.floor(v / size)} ${unit}`);
      v %= size;
    } else if (parts.length > 0) break;
  }
  return sign + parts.join(' ');
}

export function Duration({ ms }: { ms: number | null | undefined }) {
  return <span class="num">{formatDuration(ms)}</span>;
}

// How far the server's clock is from this browser's (a scaled demo clock, or skew), so
// "in 5 min" means five minutes of the server's time.
let clockOffsetMs = 0;
export function setServerNow(iso: string): void {
  const t = new Date(iso).getTime();
  if (Number.isFinite(t)) clockOffsetMs = t - Date.now();
}
export const serverNow = (): number => Date.now() + clockOffsetMs;

/** How long from now: `in 3 min` / `5 s ago`. */
export function Relative({
  at,
  now = serverNow(),
}: {
  at: string | number | null | undefined;
  now?: number;
}) {
  if (at === null || at === undefined) return <span class="muted">—</span>;
  const ms = new Date(at).getTime() - now;
  const d = new Date(at);
  return (
    <time dateTime={d.toISOString()} title={`${dateTime.format(d)} · ${d.toISOString()} (UTC)`}>
      {ms >= 0 ? `in ${formatDuration(ms)}` : `${formatDuration(-ms)} ago`}
    </time>
  );
}

/** An id shown in full, with a button that copies it. */
export function Id({ value, href }: { value: string; href?: string | undefined }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // Clipboard needs a secure context; select the text so Ctrl+C works instead.
      const range = document.createRange();
      const el = document.querySelector(`[data-id="${CSS.escape(value)}"]`);
      if (el) {
        range.selectNodeContents(el);
        getSelection()?.removeAllRanges();
        getSelection()?.addRange(range);
      }
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1200);
  };
  return (
    <span class="id">
      {href ? (
        <a href={href} data-id={value} class="mono">
          {value}
        </a>
      ) : (
        <span data-id={value} class="mono">
          {value}
        </span>
      )}
      <button type="button" class="copy" onClick={copy} title="Copy" aria-label={`Copy ${value}`}>
        {copied ? (
          '✓'
        ) : (
          <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
            <rect
              x="5"
              y="5"
              width="9"
              height="9"
              rx="1.5"
              fill="none"
              stroke="currentColor"
              stroke-width="1.5"
            />
            <path d="M3 11V3a1 1 0 0 1 1-1h7" fill="none" stroke="currentColor" stroke-width="1.5" />
          </svg>
        )}
      </button>
    </span>
  );
}

export function Status({ status }: { status: string }) {
  return <span class={`badge s-${status}`}>{status.replace('_', ' ')}</span>;
}

type ButtonProps = Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'onClick'> & {
  /** Runs the action; an error it throws is shown by the button. */
  onAction: () => Promise<unknown>;
  /** Asked with window.confirm before acting. */
  confirm?: string;
  children: ComponentChildren;
  danger?: boolean;
};

/** A button that changes stored state: disabled, and says why, under a read-only token. */
export function ActionButton({ onAction, confirm: question, children, danger, ...rest }: ButtonProps) {
  const access = useAccess();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const readOnly = access === 'read';
  const click = async () => {
    if (question && !window.confirm(question)) return;
    setBusy(true);
    setError(undefined);
    try {
      await onAction();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="action">
      <button
        type="button"
        {...rest}
        class={`${danger ? 'danger' : ''} ${(rest.class as string | undefined) ?? ''}`}
        disabled={readOnly || busy || Boolean(rest.disabled)}
        title={readOnly ? 'Read-only token: this action needs the full API token' : (rest.title as string)}
        onClick={click}
      >
        {children}
      </button>
      {error && (
        <span class="error-inline" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}

export function ErrorBox({ error }: { error: ApiError | Error | undefined }) {
  if (!error) return null;
  return (
    <div class="error-box" role="alert">
      {error instanceof ApiError && <strong>{error.code} </strong>}
      {error.message}
    </div>
  );
}

export function Json({ value }: { value: unknown }) {
  if (value === undefined) return <span class="muted">—</span>;
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

/** Newer / Older for a list paged by cursor (paging.ts useCursor; `next` is the page's nextCursor). */
export function Pager({ paging, next }: { paging: Cursor; next: string | null | undefined }) {
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled={!paging.hasNewer} onClick={paging.newer}>
        ← Newer
      </button>
      <button type="button" disabled={!next} onClick={() => next && paging.older(next)}>
        Older →
      </button>
    </nav>
  );
}

/** Checkboxes for filtering by several statuses at once. */
export function StatusFilter({
  statuses,
  selected,
  onChange,
}: {
  statuses: readonly string[];
  selected: readonly string[];
  onChange: (next: string[]) => void;
}) {
  return (
    <fieldset class="checks">
      <legend>Status</legend>
      {statuses.map((s) => (
        <label class="check">
          <input
            type="checkbox"
            checked={selected.includes(s)}
            onChange={() =>
              onChange(selected.includes(s) ? selected.filter((x) => x !== s) : [...selected, s])
            }
          />
          {s.replace('_', ' ')}
        </label>
      ))}
    </fieldset>
  );
}

/** A filter's instant, typed in the viewer's zone and kept as ISO (undefined when empty). */
export function InstantField({
  label,
  value,
  onChange,
}: {
  label: string;
  value: string | undefined;
  onChange: (iso: string | undefined) => void;
}) {
  return (
    <label>
      {label}
      <input
        type="datetime-local"
        value={toLocalInput(value)}
        onChange={(e) => onChange(fromLocalInput(e.currentTarget.value))}
      />
    </label>
  );
}

export function Section({
  title,
  children,
  actions,
}: {
  title: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
}) {
  return (
    <section class="card">
      <header class="card-head">
        <h2>{title}</h2>
        {actions && <div class="card-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** A bar of `value` out of 1 (workflow progress). */
export function Progress({ value, label }: { value: number | null | undefined; label?: string | undefined }) {
  if (value === null || value === undefined) return <span class="muted">—</span>;
  const pct = Math.max(0, Math.min(100, value * 100));
  return (
    <span
      class="progress"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(pct)}
    >
      <span class="bar" style={{ width: `${pct}%` }} />
      <span class="label">{label ?? `${Math.round(pct)} %`}</span>
    </span>
  );
}
