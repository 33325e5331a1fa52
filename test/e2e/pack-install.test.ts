// The package as a user gets it: `npm pack`, then in a new folder made with `npm init -y`
// (CommonJS, as npm makes it) and in an ESM one, `npm install` of the tarball, a config written
// there, and the `mainspring` binary run from that folder: --version, `start` answering
// /healthz, and `invoke --wait` of a function that folder defines. The build goes to a temp
// package, so it neither needs nor disturbs this repo's dist/.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/backends.ts';
import { REPO } from '../helpers/cli.ts';

const run = promisify(execFile);
const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
// npm and the installed binary run on this Node.js (24), as a user's would.
const env = {
  ...process.env,
  PATH: `${dirname(process.execPath)}:${process.env['PATH']}`,
  DATABASE_URL: undefined,
  MAINSPRING_API_TOKEN: undefined,
  MAINSPRING_LOG_FORMAT: 'json',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

let work: string;
let tarball: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  work = tempDir('mainspring-pack-');
  const pkg = join(work, 'package');
  // What `npm run build` makes, into the temp package: the compiled sources, the migrations,
  // and the dashboard's bundle (built by this project's global setup).
  cpSync(join(REPO, 'package.json'), join(pkg, 'package.json'));
  cpSync(join(REPO, 'README.md'), join(pkg, 'README.md'));
  await run(
    join(REPO, 'node_modules/.bin/tsc'),
    ['-p', 'tsconfig.build.json', '--outDir', join(pkg, 'dist')],
    {
      cwd: REPO,
    },
  );
  for (const backend of ['sqlite', 'postgres'])
    cpSync(join(REPO, 'src/store', backend, 'migrations'), join(pkg, 'dist/store', backend, 'migrations'), {
      recursive: true,
    });
  cpSync(join(REPO, 'dist/dashboard/assets'), join(pkg, 'dist/dashboard/assets'), { recursive: true });
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
    cwd: pkg,
    env,
  });
  const [packed] = JSON.parse(stdout) as {
    filename: string;
    size: number;
    unpackedSize: number;
    files: { path: string }[];
  }[];
  tarball = join(work, packed!.filename);
  console.log(
    `[pack] ${packed!.filename}: ${(packed!.size / 1024).toFixed(0)} KiB packed, ${(packed!.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${packed!.files.length} files`,
  );
  const outside = packed!.files
    .map((f) => f.path)
    .filter((p) => !/^(dist\/|package\.json$|README\.md$)/.test(p));
  expect(outside, 'only dist/ and what it needs ship').toEqual([]);
  expect(
    packed!.files.some((f) => f.path.endsWith('.map')),
    'no source maps pointing at sources not shipped',
  ).toBe(false);
}, 240_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A new project folder, as `npm init -y` makes it, with the tarball installed. */
async function project(name: string, esm: boolean): Promise<string> {
  const dir = join(work, name);
  mkdirSync(dir);
  await run('npm', ['init', '-y'], { cwd: dir, env });
  if (esm) await run('npm', ['pkg', 'set', 'type=module'], { cwd: dir, env });
  await run('npm', ['install', '--prefer-offline', tarball], { cwd: dir, env, timeout: 180_000 });
  return dir;
}

const CONFIG = `import { defineConfig, defineFunction } from 'mainspringjs';

const greet = defineFunction({
  name: 'greet',
  handler: async (input: { name: string }) => ({ greeting: \`hello, \${input.name}\` }),
});

export default defineConfig({ db: 'sqlite:./data/mainspring.db', functions: [greet] });
`;

/** Runs the installed binary in `dir` and waits for it to exit. */
async function mainspring(dir: string, args: string[]) {
  const bin = join(dir, 'node_modules/.bin/mainspring');
  return run(bin, args, { cwd: dir, env, timeout: 60_000 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

/** `mainspring start` from `dir` on a free port; resolves with its URL once it listens. */
function start(dir: string): Promise<string> {
  const child = spawn(join(dir, 'node_modules/.bin/mainspring'), ['start', '--port', '0'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`mainspring start exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.url && entry.msg?.startsWith('mainspring listening')) resolve(entry.url);
    });
  });
}

describe.each([
  [
    'a CommonJS project (npm init -y), config in mainspring.config.mts',
    'cjs',
    false,
    'mainspring.config.mts',
  ],
  ['an ESM project ("type": "module"), config in mainspring.config.ts', 'esm', true, 'mainspring.config.ts'],
])('the packed package in %s', (_, name, esm, configFile) => {
  let dir: string;
  beforeAll(async () => {
    dir = await project(name, esm);
    writeFileSync(join(dir, configFile), CONFIG);
  }, 240_000);

  it('installs the binary, with dist/ and no sources', () => {
    const installed = join(dir, 'node_modules/mainspringjs');
    expect(
      readdirSync(installed)
        .filter((f) => f !== 'node_modules')
        .sort(),
    ).toEqual(['README.md', 'dist', 'package.json']);
    expect(existsSync(join(dir, 'node_modules/.bin/mainspring'))).toBe(true);
  });

  it('answers --version, through the binary and through npx', async () => {
    expect(await mainspring(dir, ['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
    const npx = await run('npx', ['mainspring', '--version'], { cwd: dir, env });
    expect(npx.stdout).toBe(`${version}\n`);
  });

  it('gives mainspringjs/testing: five hourly ticks in five fake hours', async () => {
    writeFileSync(
      join(dir, 'kit.mjs'),
      `import { defineFunction, schedule } from 'mainspringjs';
import { createTestApp } from 'mainspringjs/testing';
const hourly = defineFunction({ name: 'hourly', triggers: [schedule('rate(1 hour)')], handler: async () => {} });
const t = await createTestApp({ functions: [hourly] });
await t.advance('5h');
console.log((await t.runsOf(hourly)).map((r) => r.status).join(' '));
await t.close();
`,
    );
    const { stdout } = await run(process.execPath, ['kit.mjs'], { cwd: dir, env });
    expect(stdout).toBe('succeeded succeeded succeeded succeeded succeeded\n');
  });

  it('runs inside a Node server of its own: createMainspring(appFromConfig(config)) and startWorker', async () => {
    writeFileSync(
      join(dir, 'embed.mjs'),
      `import { createServer } from 'node:http';
import { appFromConfig, createMainspring } from 'mainspringjs';
import config from './${configFile}';

const ms = await createMainspring({ ...appFromConfig(config), db: 'sqlite::memory:' });
await ms.startWorker();
const server = createServer(async (_req, res) => {
  const run = await ms.runs.invoke('greet', { name: 'grace' });
  res.end(JSON.stringify((await ms.runs.wait(run.id)).result));
});
server.listen(0, '127.0.0.1', async () => {
  console.log(await (await fetch(\`http://127.0.0.1:\${server.address().port}/\`)).text());
  server.close();
  await ms.close();
});
`,
    );
    const { stdout } = await run(process.execPath, ['embed.mjs'], { cwd: dir, env });
    expect(stdout).toBe('{"greeting":"hello, grace"}\n');
  });

  it('starts, answers /healthz, and runs a function of this folder with invoke --wait', async () => {
    const url = await start(dir);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const invoked = await mainspring(dir, [
      'invoke',
      'greet',
      '--input',
      '{"name":"ada"}',
      '--wait',
      '--url',
      url,
    ]);
    expect(invoked.stderr).toBe('');
    expect(invoked.code).toBe(0);
    expect(invoked.stdout).toMatch(/succeeded/);
    expect(invoked.stdout).toContain('hello, ada');
  }, 60_000);
});
