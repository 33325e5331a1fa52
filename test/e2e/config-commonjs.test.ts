// A config in a CommonJS project. `npm init` writes "type": "commonjs", and Node
// then loads mainspring.config.ts/.js as CommonJS, where import/export is a syntax
// error: the message must name the two real fixes. A package.json without "type"
// loads either way (Node detects the syntax and warns), and so does a config
// written with require and module.exports.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/backends.ts';
import { runCli, startServer } from '../helpers/cli.ts';

const ESM_CONFIG = `import { join } from 'node:path';
const file: string = join('data', 'app.db');
export default { db: \`sqlite:\${file}\` };
`;

function project(packageJson: string, file: string, source: string): string {
  const cwd = tempDir();
  writeFileSync(join(cwd, 'package.json'), packageJson);
  writeFileSync(join(cwd, file), source);
  return cwd;
}

async function storeUrlOnceStarted(cwd: string): Promise<string> {
  const server = await startServer([], { cwd });
  const body = (await (await fetch(`${server.url}/healthz`)).json()) as { store: { url: string } };
  server.child.kill('SIGTERM');
  await server.exited;
  return body.store.url;
}

describe('a config in a CommonJS project', () => {
  it.each([
    ['mainspring.config.ts', 'mainspring.config.mts'],
    ['mainspring.config.js', 'mainspring.config.mjs'],
  ])('%s with import/export under "type": "commonjs" names both fixes', async (file, renamed) => {
    const cwd = project('{ "type": "commonjs" }\n', file, ESM_CONFIG.replace(': string', ''));
    const res = await runCli(['start', '--port', '0', '--db', 'sqlite::memory:'], { cwd });
    expect(res.code).toBe(2);
    const ours = res.stderr.split('\n').filter((l) => l.startsWith('mainspring:'));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toContain(`config file ${join(cwd, file)} failed to load`);
    expect(ours[0]).toContain(
      `${join(cwd, 'package.json')} says "type": "commonjs", so Node loads it as CommonJS`,
    );
    expect(ours[0]).toContain(
      `add "type": "module" to ${join(cwd, 'package.json')} or name the file ${renamed}`,
    );
    expect(ours[0]).toMatch(/\[E_CONFIG_INVALID\]$/);
    expect(res.stdout).toBe('');
  });

  it('mainspring.config.ts with import/export and no "type" loads (Node detects the syntax)', async () => {
    const cwd = project('{}\n', 'mainspring.config.ts', ESM_CONFIG);
    expect(await storeUrlOnceStarted(cwd)).toBe(`sqlite:${join(cwd, 'data/app.db')}`);
  });

  it('mainspring.config.ts with require and module.exports under "type": "commonjs" loads', async () => {
    const cwd = project(
      '{ "type": "commonjs" }\n',
      'mainspring.config.ts',
      `const { join } = require('node:path');\nconst file: string = join('data', 'app.db');\nmodule.exports = { db: \`sqlite:\${file}\` };\n`,
    );
    expect(await storeUrlOnceStarted(cwd)).toBe(`sqlite:${join(cwd, 'data/app.db')}`);
  });
});
