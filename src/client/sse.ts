// Reads a text/event-stream body as events (the WHATWG format: `event:`, `id:` and
// `data:` lines, a blank line ending each event, `:` comments ignored).

import type { ServerSentEvent } from './types.ts';

/** The events of a Server-Sent Events body, until it ends or the consumer stops. */
export async function* readEvents<T>(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent<T>> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = 'message';
  let id: string | undefined;
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let nl = buffer.search(/\r?\n/);
      while (nl !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(buffer[nl] === '\r' ? nl + 2 : nl + 1);
        nl = buffer.search(/\r?\n/);
        if (line === '') {
          if (data.length > 0) {
            const text = data.join('\n');
            yield { event, ...(id !== undefined ? { id } : {}), data: parse(text) as T };
          }
          event = 'message';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id') id = value;
      }
    }
  } finally {
    // The consumer stopped early (break) or the stream ended: release the connection.
    await reader.cancel().catch(() => {});
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
