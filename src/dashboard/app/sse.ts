// Server-Sent Events read with fetch rather than EventSource: EventSource cannot send an
// Authorization header, and the token must stay out of URLs. Reconnects with backoff
// and resumes with Last-Event-ID, as EventSource would.
import { authHeaders } from './api.ts';

export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
}

export interface StreamOptions {
  readonly onEvent: (e: SseEvent) => void;
  /** Called with true once connected, false when the connection drops. */
  readonly onState?: (connected: boolean) => void;
  readonly signal: AbortSignal;
  /** Stop (no reconnect) after this event, e.g. `end` of a finished run's log. */
  readonly endEvent?: string;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

export async function stream(path: string, options: StreamOptions): Promise<void> {
  let lastId: string | undefined;
  let delay = 500;
  while (!options.signal.aborted) {
    let ended = false;
    try {
      const res = await fetch(path, {
        headers: {
          ...authHeaders(),
          accept: 'text/event-stream',
          ...(lastId ? { 'last-event-id': lastId } : {}),
        },
        signal: options.signal,
      });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      options.onState?.(true);
      delay = 500;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
          const e = parse(block);
          if (!e) continue;
          if (e.id !== undefined) lastId = e.id;
          options.onEvent(e);
          if (e.event === options.endEvent) ended = true;
        }
        if (ended) break;
      }
    } catch {
      // Dropped or refused: retried below unless the page went away.
    }
    if (ended || options.signal.aborted) return;
    options.onState?.(false);
    await sleep(delay, options.signal);
    delay = Math.min(delay * 2, 15_000);
  }
}

function parse(block: string): SseEvent | undefined {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  return data.length > 0 || event !== 'message' ? { event, data: data.join('\n'), id } : undefined;
}
