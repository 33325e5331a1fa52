// The built `mainspring` command on a Node.js too old for it: one line saying so
// and exit 1, not a stack trace about node:sqlite. The build goes to a temp
// package (its package.json and node_modules linked to this repo's), so it
// neither needs nor disturbs dist/.

import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/backends.ts';
import { REPO } from '../helpers/cli.ts';

const OLD_NODE = '/usr/bin/node';

function oldNodeSkipReason(): string | undefined {
  if (!existsSync(OLD_NODE)) return `${OLD_NODE} does not exist, so there is no older Node.js to try`;
  const version = spawnSync(OLD_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const major = Number.parseInt(version.replace(/^v/, ''), 10);
  if (!(major < 24)) return `${OLD_NODE} is ${version || 'of unknown version'}, not older than Node.js 24`;
  return undefined;
}
const OLD_NODE_SKIP = oldNodeSkipReason();
if (OLD_NODE_SKIP) console.warn(`[mainspring tests] skipping the old-Node.js test: ${OLD_NODE_SKIP}`);

let pkg: string;
beforeAll(async () => {
  pkg = tempDir('mainspring-build-');
  symlinkSync(join(REPO, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(pkg, 'node_modules'));
  mkdirSync(join(pkg, 'dist'));
  await promisify(execFile)(
    join(REPO, 'node_modules/.bin/tsc'),
    ['-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')],
    { cwd: REPO },
  );
}, 120_000);
afterAll(() => rmSync(pkg, { recursive: true, force: true }));

function runBuilt(node: string, args: string[]) {
  return spawnSync(node, [join(pkg, 'dist/cli/main.js'), ...args], { cwd: pkg, encoding: 'utf8' });
}

describe('the built mainspring command', () => {
  // `--version` alone would run on Node 20; `start` imports node:sqlite. Both must refuse alike.
  it.skipIf(OLD_NODE_SKIP !== undefined).each([[['--version']], [['start', '--db', 'sqlite::memory:']]])(
    `on Node.js before 24 (${OLD_NODE}), %j prints one line saying what it needs, and exits 1`,
    (args) => {
      const version = spawnSync(OLD_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
      const res = runBuilt(OLD_NODE, args);
      expect(res.stderr).toBe(
        `mainspring needs Node.js 24 or later (this is ${version}); install it from https://nodejs.org or with \`nvm install 24\`\n`,
      );
      expect(res.stdout).toBe('');
      expect(res.status).toBe(1);
    },
  );

  it.skipIf(OLD_NODE_SKIP !== undefined)(
    `on Node.js before 24 (${OLD_NODE}), importing the library fails with the same one line`,
    () => {
      const version = spawnSync(OLD_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
      const url = `file://${join(pkg, 'dist/index.js')}`;
      const res = spawnSync(
        OLD_NODE,
        ['-e', `import(${JSON.stringify(url)}).catch((e) => { console.error(e.message); process.exit(3); })`],
        { cwd: pkg, encoding: 'utf8' },
      );
      expect(res.stderr).toBe(
        `mainspring needs Node.js 24 or later (this is ${version}); install it from https://nodejs.org or with \`nvm install 24\`\n`,
      );
      expect(res.status).toBe(3);
    },
  );

  it('on this Node.js loads the command after the check (./run-cli.ts became ./run-cli.js)', () => {
    const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    const res = runBuilt(process.execPath, ['--version']);
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe(`${version}\n`);
    expect(res.status).toBe(0);
  });
});
