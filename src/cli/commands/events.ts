// `mainspring events put|get|replay`: put events on the bus (routed with the rules of the
// app serving them), read a stored event, replay a time range to the rules. Each speaks to
// the API, over HTTP with --url or in this process over the store.

import type { Command } from 'commander';
import { MainspringError } from '../../core/errors.ts';
import type { StoredEvent } from '../../events/event.ts';
import { addClientOptions, type ClientFlags, out, withClient } from '../connect.ts';

interface PutResult {
  readonly failedEntryCount: number;
  readonly entries: readonly ({ eventId: string } | { errorCode: string; errorMessage: string })[];
}

function parseDetail(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new MainspringError(
      'E_EVENT_INVALID',
      `--detail is not valid JSON (${(err as Error).message}); pass an object such as '{"id": 1}'`,
      { details: { field: 'detail', value: text } },
    );
  }
}

/** `--from` / `--to` as the API takes them: an ISO 8601 time (a local one is read as local). */
function isoFlag(text: string, flag: string): string {
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new MainspringError(
      'E_EVENT_INVALID',
      `${flag} is ${JSON.stringify(text)}; give an ISO 8601 time such as 2026-01-01T00:00:00Z`,
      { details: { field: flag.slice(2), value: text } },
    );
  }
  return new Date(ms).toISOString();
}

export function registerEventsCommand(program: Command): void {
  const events = program.command('events').description('the event bus: put, get, replay');
  const sub = (name: string, description: string) =>
    addClientOptions(events.command(name).description(description));

  sub('put', 'put one event on the bus; prints its id')
    .requiredOption('--source <source>', 'who sent it, e.g. shop.orders')
    .requiredOption('--detail-type <type>', 'what happened, e.g. "Order Placed"')
    .option('--detail <json>', 'a JSON object', '{}')
    .option('--time <iso>', 'when it happened (default now)')
    .option('--id <id>', 'the event id (default a random UUID); a stored id stores nothing new')
    .action(
      (
        flags: ClientFlags & {
          source: string;
          detailType: string;
          detail: string;
          time?: string;
          id?: string;
        },
      ) => {
        const detail = parseDetail(flags.detail);
        return withClient(flags, 'write', async (client) => {
          const result = await client.post<PutResult>('/v1/events', {
            entries: [
              {
                source: flags.source,
                detailType: flags.detailType,
                detail,
                ...(flags.time !== undefined ? { time: flags.time } : {}),
                ...(flags.id !== undefined ? { id: flags.id } : {}),
              },
            ],
          });
          const entry = result.entries[0]!;
          if ('errorCode' in entry) {
            throw new MainspringError(
              entry.errorCode === 'E_PAYLOAD_TOO_LARGE' ? 'E_PAYLOAD_TOO_LARGE' : 'E_EVENT_INVALID',
              entry.errorMessage.replace(/^entries\[0\]\./, '--'),
            );
          }
          if (flags.json) out(JSON.stringify(result, null, 2));
          else out(entry.eventId);
        });
      },
    );

  sub('get', 'a stored event')
    .argument('<id>')
    .action((id: string, flags: ClientFlags) =>
      withClient(flags, 'read', async (client) => {
        out(JSON.stringify(await client.get<StoredEvent>(`/v1/events/${encodeURIComponent(id)}`), null, 2));
      }),
    );

  sub('replay', 'send the events whose time is in [--from, --to) to the rules again, marked replayed')
    .requiredOption('--from <iso>', 'start of the range (inclusive), ISO 8601')
    .requiredOption('--to <iso>', 'end of the range (exclusive), ISO 8601')
    .option('--rule <name>', 'only this rule (default every rule)')
    .action((flags: ClientFlags & { from: string; to: string; rule?: string }) => {
      const from = isoFlag(flags.from, '--from');
      const to = isoFlag(flags.to, '--to');
      return withClient(flags, 'write', async (client) => {
        const result = await client.post<{ replayId: string; events: number; deliveries: number }>(
          '/v1/events/replay',
          { from, to, ...(flags.rule ? { rule: flags.rule } : {}) },
        );
        if (flags.json) out(JSON.stringify(result, null, 2));
        else
          out(
            `replayed ${result.events} events (${result.deliveries} deliveries), replay ${result.replayId}`,
          );
      });
    });
}
