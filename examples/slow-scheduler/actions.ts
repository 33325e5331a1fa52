// What the seed's worker did per action, for a content platform whose items go on sale,
// get published and are withdrawn on dates known months ahead. The catalogue is a JSON
// file (CATALOGUE_FILE, default .mainspring/catalogue.json) so the example has no other store.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FunctionContext } from 'mainspringjs';

interface Item {
  price?: number;
  salePercent?: number;
  published?: boolean;
}

const file = () => process.env['CATALOGUE_FILE'] ?? '.mainspring/catalogue.json';

function update(itemID: string, change: (item: Item) => Item): Item {
  const path = file();
  const catalogue = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, Item>) : {};
  const item = change(catalogue[itemID] ?? {});
  catalogue[itemID] = item;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(catalogue, null, 2)}\n`);
  return item;
}

export function applySale(
  payload: { itemID: string; newPrice: number; salePercent: number },
  ctx: FunctionContext,
): Item {
  const item = update(payload.itemID, (i) => ({
    ...i,
    price: payload.newPrice,
    salePercent: payload.salePercent,
  }));
  ctx.log.info({ itemID: payload.itemID, newPrice: payload.newPrice }, 'sale applied');
  return item;
}

export function publishItem(payload: { itemID: string }, ctx: FunctionContext): Item {
  const item = update(payload.itemID, (i) => ({ ...i, published: true }));
  ctx.log.info({ itemID: payload.itemID }, 'published');
  return item;
}

export function withdrawItem(payload: { itemID: string }, ctx: FunctionContext): Item {
  const item = update(payload.itemID, (i) => ({ ...i, published: false }));
  ctx.log.info({ itemID: payload.itemID }, 'withdrawn');
  return item;
}
