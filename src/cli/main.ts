#!/usr/bin/env node
// Entry point of the `mainspring` command. ESM hoists static imports, and on an older
// Node.js one of node:sqlite would fail with a stack trace before any code ran, so this
// module imports only the version check (and node:module as a namespace, which links on
// any version) and loads the command itself afterwards.

import * as nodeModule from 'node:module';
import { nodeTooOld } from '../core/node-version.ts';

const tooOld = nodeTooOld(process.version);
if (tooOld === null) {
  // Every command loads the whole library; Node's on-disk code cache (in the OS temp
  // folder, off with NODE_DISABLE_COMPILE_CACHE=1) cuts a command's start by about a third.
  nodeModule.enableCompileCache();
  await import('./run-cli.ts');
} else {
  process.stderr.write(`${tooOld}\n`);
  process.exitCode = 1;
}
