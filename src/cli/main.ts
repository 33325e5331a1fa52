#!/usr/bin/env node
// Entry point of the `mainspring` command. ESM hoists static imports, and on an older
// Node.js one of node:sqlite would fail with a stack trace before any code ran, so this
// module imports only the version check and loads the command itself afterwards.

import { nodeTooOld } from '../core/node-version.ts';

const tooOld = nodeTooOld(process.version);
if (tooOld === null) {
  await import('./run-cli.ts');
} else {
  process.stderr.write(`${tooOld}\n`);
  process.exitCode = 1;
}
