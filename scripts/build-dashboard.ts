// Bundles the dashboard (src/dashboard/app) into dist/dashboard/assets: one minified
// script and stylesheet with content hashes in their names, an index.html naming them,
// and a gzip copy of each so the server sends the small form without compressing per request.
// Runs on `npm install` (prepare) and `npm run build`; `--watch` rebuilds on change.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = new URL('../', import.meta.url);
const out = new URL('dist/dashboard/assets/', root);

const options: esbuild.BuildOptions = {
  entryPoints: [new URL('src/dashboard/app/main.tsx', root).pathname],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  outdir: out.pathname,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [
    {
      name: 'index-html',
      setup(build) {
        build.onEnd((result) => {
          if (result.errors.length > 0 || !result.metafile) return;
          const files = Object.keys(result.metafile.outputs).map((f) => basename(f));
          writeIndex(files.find((f) => f.endsWith('.js'))!, files.find((f) => f.endsWith('.css'))!);
        });
      },
    },
  ],
};

function writeIndex(script: string, style: string): void {
  const html = readFileSync(new URL('src/dashboard/app/index.html', root), 'utf8')
    .replace('%SCRIPT%', `/assets/${script}`)
    .replace('%STYLE%', `/assets/${style}`);
  writeFileSync(new URL('index.html', out), html);
  for (const file of ['index.html', script, style]) {
    writeFileSync(new URL(`${file}.gz`, out), gzipSync(readFileSync(new URL(file, out)), { level: 9 }));
  }
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
if (process.argv.includes('--watch')) {
  await (await esbuild.context(options)).watch();
} else {
  const result = await esbuild.build(options);
  const sizes = Object.entries(result.metafile!.outputs).map(([file, o]) => {
    const gz = gzipSync(readFileSync(file), { level: 9 }).length;
    return `${basename(file)} ${(o.bytes / 1024).toFixed(1)} KiB (${(gz / 1024).toFixed(1)} KiB gzipped)`;
  });
  console.log(`dashboard built: ${sizes.join(', ')}`);
}
