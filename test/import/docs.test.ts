// docs/import.md shows, for each source, the files before and the config and report after.
// This runs each example's command on its files in a fresh folder and requires the page to
// show exactly what the command prints, so the page cannot drift from the importer.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/backends.ts';
import { REPO, runCli } from '../helpers/cli.ts';

interface Example {
  readonly title: string;
  readonly files: { path: string; text: string }[];
  readonly args: string[];
  readonly config: string;
  readonly report: string;
}

function examples(): Example[] {
  const page = readFileSync(join(REPO, 'docs/import.md'), 'utf8');
  const out: Example[] = [];
  for (const section of page.split(/^## /m).slice(1)) {
    const title = section.slice(0, section.indexOf('\n'));
    const files: { path: string; text: string }[] = [];
    let args: string[] = [];
    let config = '';
    let report = '';
    for (const [, lang, attr, body] of section.matchAll(/^```(\w+)(?: (\S+))?\n([\s\S]*?)\n```$/gm)) {
      if (attr?.startsWith('file=')) files.push({ path: attr.slice(5), text: `${body}\n` });
      else if (lang === 'sh') args = body!.replace(/^mainspring /, '').split(' ');
      else if (attr === 'title=mainspring.config.ts') config = `${body}\n`;
      else if (attr === 'title=report') report = `${body}\n`;
    }
    out.push({ title, files, args, config, report });
  }
  return out;
}

describe('docs/import.md', () => {
  const all = examples();

  it('has an example for each source the importer reads', () => {
    expect(all.map((e) => e.title.split(':')[0])).toEqual([
      'Terraform',
      'Stacktape',
      'Serverless Framework',
      'Amplify Gen 2',
      'EventBridge Scheduler, as `aws scheduler get-schedule` prints it',
      'A crontab',
    ]);
    for (const e of all) {
      expect(e.files.length, e.title).toBeGreaterThan(0);
      expect(e.args[0], e.title).toBe('import');
      expect(e.config, e.title).toContain('export default defineConfig(');
      expect(e.report, e.title).toMatch(/^mainspring import: /);
    }
  });

  it.each(all.map((e) => [e.title, e] as const))('%s: shows what the command prints', async (_, e) => {
    const cwd = tempDir('mainspring-import-docs-');
    for (const f of e.files) {
      mkdirSync(dirname(join(cwd, f.path)), { recursive: true });
      writeFileSync(join(cwd, f.path), f.text);
    }
    const res = await runCli(e.args, { cwd });
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(e.config);
    expect(res.stderr).toBe(e.report);
  });
});
