// The example app `npm start` runs: embedded SQLite under .mainspring/, the API on
// http://127.0.0.1:7400. Users write this file in TypeScript; Node 24 runs it as is.

import { defineConfig } from 'mainspring';

export default defineConfig({
  api: { port: 7400, host: '127.0.0.1' },
  log: { level: 'info' },
});
