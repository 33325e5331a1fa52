// Imported first by the library's entry: on a Node.js too old for mainspring, importing it
// fails with one line naming the version it needs, before any module needs node:sqlite.

import { nodeTooOld } from './node-version.ts';

const tooOld = nodeTooOld(process.version);
if (tooOld !== null) throw new Error(tooOld);
