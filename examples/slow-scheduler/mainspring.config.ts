// Seed 003, the "very slow scheduler" (EventBridge + CloudWatch + Lambda + DynamoDB), as one
// mainspring app: tasks { id, due, action, payload } are stored by id and run by the function
// their action names, once, when due. The README maps the two side by side.
//
//   npm run example:slow-scheduler                                  # the API on :8080 (the editor)
//   npm run example:slow-scheduler:worker -- --now 2020-12-31T00:00:00Z   # the worker, --fakenow

import { defineConfig, defineFunction } from 'mainspringjs';
import { applySale, publishItem, withdrawItem } from './actions.ts';

export default defineConfig({
  db: 'sqlite:.mainspring/slow-scheduler.db',
  // The seed's editor served its REST API on port 8080.
  api: { port: 8080 },
  // One function per action: a task's `action` names the function, its `payload` is the input.
  functions: [
    defineFunction({ name: 'APPLY_SALE', retry: { maxAttempts: 3 }, handler: applySale }),
    defineFunction({ name: 'PUBLISH_ITEM', retry: { maxAttempts: 3 }, handler: publishItem }),
    defineFunction({ name: 'WITHDRAW_ITEM', retry: { maxAttempts: 3 }, handler: withdrawItem }),
  ],
});
