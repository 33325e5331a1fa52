// `mainspring events put|get|replay`: put events on the bus of a store (routed with
// the config's rules), read a stored event, replay a time range to the rules.

import type { Command } from 'commander';
import { MainspringError } from '../../core/errors.ts';
import { out, type StoreFlags, withApp } from '../with-app.ts';
import { addConfigOption, addStoreOption } from './start.ts';

interface Flags extends StoreFlags {
  json?: boolean;
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

export function registerEventsCommand(program: Command): void {
  const events = program.command('events').description('the event bus: put, get, replay');
  const sub = (name: string, description: string) =>
    addConfigOption(addStoreOption(events.command(name).description(description))).option(
      '--json',
      'print JSON',
    );

  sub('put', 'put one event on the bus; prints its id')
    .requiredOption('--source <source>', 'who sent it, e.g. shop.orders')
    .requiredOption('--detail-type <type>', 'what happened, e.g. "Order Placed"')
    .option('--detail <json>', 'a JSON object', '{}')
    .option('--time <iso>', 'when it happened (default now)')
    .option('--id <id>', 'the event id (default a random UUID); a stored id stores nothing new')
    .action(
      (flags: Flags & { source: string; detailType: string; detail: string; time?: string; id?: string }) =>
        withApp(flags, async (ms) => {
          const result = await ms.events.put([
            {
              source: flags.source,
              detailType: flags.detailType,
              detail: parseDetail(flags.detail),
              ...(flags.time !== undefined ? { time: flags.time } : {}),
              ...(flags.id !== undefined ? { id: flags.id } : {}),
            },
          ]);
          const entry = result.entries[0]!;
          if ('errorCode' in entry) {
            throw new MainspringError(
              entry.errorCode === 'E_PAYLOAD_TOO_LARGE' ? 'E_PAYLOAD_TOO_LARGE' : 'E_EVENT_INVALID',
              entry.errorMessage.replace(/^entries\[0\]\./, '--'),
            );
          }
          if (flags.json) out(JSON.stringify(result, null, 2));
          else out(entry.eventId);
        }),
    );

  sub('get', 'a stored event')
    .argument('<id>')
    .action((id: string, flags: Flags) =>
      withApp(flags, async (ms) => {
        out(JSON.stringify(await ms.events.get(id), null, 2));
      }),
    );

  sub('replay', 'send the events whose time is in [--from, --to) to the rules again, marked replayed')
    .requiredOption('--from <iso>', 'start of the range (inclusive), ISO 8601')
    .requiredOption('--to <iso>', 'end of the range (exclusive), ISO 8601')
    .option('--rule <name>', 'only this rule (default every rule)')
    .action((flags: Flags & { from: string; to: string; rule?: string }) =>
      withApp(flags, async (ms) => {
        const result = await ms.events.replay({
          from: flags.from,
          to: flags.to,
          ...(flags.rule ? { rule: flags.rule } : {}),
        });
        if (flags.json) out(JSON.stringify(result, null, 2));
        else
          out(
            `replayed ${result.events} events (${result.deliveries} deliveries), replay ${result.replayId}`,
          );
      }),
    );
}
