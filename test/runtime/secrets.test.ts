import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isMainspringError, type MainspringError } from '../../src/core/errors.ts';
import { loadSecrets, loadSecretsFile, resolveSecrets } from '../../src/runtime/secrets.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mainspring-secrets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const command = 'function "nightly-report"';

function caught(fn: () => unknown): MainspringError {
  try {
    fn();
  } catch (err) {
    if (isMainspringError(err)) return err;
    throw err;
  }
  throw new Error('expected a MainspringError');
}

async function rejection(promise: Promise<unknown>): Promise<MainspringError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isMainspringError(err)) throw new Error(`expected a MainspringError, got ${String(err)}`);
  return err;
}

describe('loadSecretsFile', () => {
  it('parses a dotenv file: comments, quotes, empty values, \\n escapes', async () => {
    const file = join(tmp, 'secrets.env');
    writeFileSync(
      file,
      [
        '# comment',
        'API_KEY=abc123',
        'DB_URL="postgres://u:p@db/app"',
        "SINGLE='with spaces'",
        'EMPTY=',
        'MULTI="line one\\nline two"',
        '',
      ].join('\n'),
    );
    expect({ ...(await loadSecretsFile(file)) }).toEqual({
      API_KEY: 'abc123',
      DB_URL: 'postgres://u:p@db/app',
      SINGLE: 'with spaces',
      EMPTY: '',
      MULTI: 'line one\nline two',
    });
  });

  it('rejects a missing file with E_CONFIG_INVALID naming the path', async () => {
    const file = join(tmp, 'missing.env');
    const err = await rejection(loadSecretsFile(file));
    expect(err.code).toBe('E_CONFIG_INVALID');
    expect(err.message).toContain(`"${file}"`);
    expect(err.message).toContain('ENOENT');
  });

  it('rejects a directory with E_CONFIG_INVALID', async () => {
    const err = await rejection(loadSecretsFile(tmp));
    expect(err.code).toBe('E_CONFIG_INVALID');
    expect(err.message).toContain('EISDIR');
  });
});

describe('resolveSecrets', () => {
  const fromFile = { API_KEY: 'from-file', DB_URL: 'postgres://file' };

  it('takes values from the environment first, then the file', () => {
    const env = { API_KEY: 'from-env', OTHER: 'x' };
    expect(resolveSecrets(['API_KEY', 'DB_URL'], fromFile, env, { command })).toEqual({
      API_KEY: 'from-env',
      DB_URL: 'postgres://file',
    });
  });

  it('treats an empty environment value as unset', () => {
    expect(resolveSecrets(['API_KEY'], fromFile, { API_KEY: '' }, { command })).toEqual({
      API_KEY: 'from-file',
    });
  });

  it('names the secret, the command and both places when a secret is missing', () => {
    const err = caught(() =>
      resolveSecrets(['API_KEY', 'SMTP_PASSWORD'], fromFile, {}, { command, file: '/etc/ms/secrets.env' }),
    );
    expect(err.code).toBe('E_SECRET_MISSING');
    expect(err.message).toBe(
      `function "nightly-report": secret "SMTP_PASSWORD" is set neither in the worker's environment nor in "/etc/ms/secrets.env"; set SMTP_PASSWORD in one of them`,
    );
    expect(err.details).toEqual({ secret: 'SMTP_PASSWORD', file: '/etc/ms/secrets.env' });
  });

  it('says when no secrets file is configured', () => {
    const err = caught(() => resolveSecrets(['API_KEY'], {}, {}, { command }));
    expect(err.code).toBe('E_SECRET_MISSING');
    expect(err.message).toContain('no secrets file is configured');
  });

  it('rejects names that cannot be environment variables', () => {
    for (const name of ['api-key', '1KEY', '', 'A B', '__proto__x!']) {
      const err = caught(() => resolveSecrets([name], {}, { [name]: 'v' }, { command }));
      expect(err.code).toBe('E_FUNCTION_INVALID');
      expect(err.message).toContain(JSON.stringify(name));
    }
    expect(caught(() => resolveSecrets(['api-key'], {}, {}, { command })).message).toContain('"api_key"');
  });

  it('does not pick up inherited object properties', () => {
    const err = caught(() => resolveSecrets(['toString'], {}, {}, { command }));
    expect(err.code).toBe('E_SECRET_MISSING');
  });
});

describe('loadSecrets', () => {
  it('loads the file and resolves, the environment winning', async () => {
    const file = join(tmp, 'both.env');
    writeFileSync(file, 'A=file-a\nB=file-b\n');
    expect(await loadSecrets(['A', 'B'], { env: { B: 'env-b' }, file }, command)).toEqual({
      A: 'file-a',
      B: 'env-b',
    });
  });

  it('does not read the file when no secret is asked for', async () => {
    expect(await loadSecrets([], { env: {}, file: join(tmp, 'absent.env') }, command)).toEqual({});
  });

  it('works without a file', async () => {
    expect(await loadSecrets(['A'], { env: { A: 'env-a' } }, command)).toEqual({ A: 'env-a' });
  });
});
