// Cursor paging: the server hands back `nextCursor`; the page keeps the cursors it came
// through so "Newer" goes back. A change of filters starts again at the newest page.
import { useEffect, useState } from 'preact/hooks';

export interface Cursor {
  readonly cursor: string | undefined;
  readonly hasNewer: boolean;
  older(next: string): void;
  newer(): void;
}

export function useCursor(filterKey: string): Cursor {
  const [trail, setTrail] = useState<string[]>([]);
  useEffect(() => setTrail([]), [filterKey]);
  return {
    cursor: trail[trail.length - 1],
    hasNewer: trail.length > 0,
    older: (next: string) => setTrail((t) => [...t, next]),
    newer: () => setTrail((t) => t.slice(0, -1)),
  };
}

/** A set of selected ids (checkbox rows). */
export function useSelection() {
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  return {
    selected,
    toggle: (id: string) =>
      setSelected((s) => {
        const n = new Set(s);
        if (n.has(id)) n.delete(id);
        else n.add(id);
        return n;
      }),
    set: (ids: readonly string[]) => setSelected(new Set(ids)),
    clear: () => setSelected(new Set()),
  };
}

/** `datetime-local` input value (viewer's zone) ⇄ ISO instant. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
