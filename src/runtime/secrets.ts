// Secrets of command functions: a command names the secrets it needs; their values come
// from the worker's environment or a dotenv-format secrets file, the environment winning
// so operators can override a file entry without editing it.

import { readFile } from 'node:fs/promises';
import { parseEnv } from 'node:util';
import { MainspringError } from '../core/errors.ts';

/** Where secret values are looked up. */
export interface SecretSources {
  /** Usually `process.env`. Wins over the file. An empty value counts as unset. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Absolute path of a secrets file in dotenv format (`NAME=value` lines, `#` comments). */
  readonly file?: string;
}

/** A secret name: it becomes an environment variable of the command. */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Reads a dotenv-format secrets file (parsed with `node:util` `parseEnv`).
 * Rejects with `E_CONFIG_INVALID` naming the path when it is missing or unreadable.
 *
 * @example
 * ```ts
 * const fromFile = await loadSecretsFile('/etc/mainspring/secrets.env');
 * // API_KEY=abc123  →  { API_KEY: 'abc123' }
 * ```
 */
export async function loadSecretsFile(path: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const fix =
      code === 'ENOENT'
        ? 'create it or fix the secrets file path in the config'
        : code === 'EISDIR'
          ? 'point it at a file, not a directory'
          : 'make it readable by the user running mainspring';
    throw new MainspringError(
      'E_CONFIG_INVALID',
      `secrets file "${path}" could not be read (${code}); ${fix}`,
      {
        cause: err,
        details: { path },
      },
    );
  }
  // Copy into a null-prototype object so a key such as `__proto__` stays an ordinary key.
  return Object.assign(Object.create(null) as Record<string, string>, parseEnv(text));
}

/** Names the asker in error messages. */
export interface ResolveSecretsContext {
  /** Who needs the secrets, e.g. `function "nightly-report"`. */
  readonly command: string;
  /** The secrets file `fromFile` came from, if any. */
  readonly file?: string;
}

/**
 * Picks the values of `names`: from `env` when set there (non-empty), else from `fromFile`.
 * Throws `E_FUNCTION_INVALID` for a name that is not an environment variable name and
 * `E_SECRET_MISSING` for one found in neither place.
 *
 * @example
 * ```ts
 * const secrets = resolveSecrets(['API_KEY'], await loadSecretsFile(file), process.env, {
 *   command: 'function "nightly-report"',
 *   file,
 * }); // { API_KEY: '…' }
 * ```
 */
export function resolveSecrets(
  names: readonly string[],
  fromFile: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string | undefined>>,
  context: ResolveSecretsContext,
): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const name of names) {
    if (!SECRET_NAME.test(name)) {
      throw new MainspringError(
        'E_FUNCTION_INVALID',
        `${context.command}: secret name ${JSON.stringify(name)} must match ${SECRET_NAME} (it becomes an environment variable); rename it, e.g. ${JSON.stringify(suggestName(name))}`,
        { details: { secret: name } },
      );
    }
    const fromEnv = Object.hasOwn(env, name) ? env[name] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') {
      resolved[name] = fromEnv;
    } else if (Object.hasOwn(fromFile, name)) {
      resolved[name] = fromFile[name]!;
    } else {
      const file = context.file === undefined ? 'no secrets file is configured' : `nor in "${context.file}"`;
      throw new MainspringError(
        'E_SECRET_MISSING',
        `${context.command}: secret "${name}" is set neither in the worker's environment ${file}; set ${name} in one of them`,
        { details: { secret: name, file: context.file ?? null } },
      );
    }
  }
  return resolved;
}

/**
 * Loads the secrets file of `sources` (only when some secret is asked for) and resolves `names`.
 *
 * @example
 * ```ts
 * const secrets = await loadSecrets(['API_KEY'], { env: process.env, file: '/etc/mainspring/secrets.env' },
 *   'function "nightly-report"');
 * ```
 */
export async function loadSecrets(
  names: readonly string[],
  sources: SecretSources,
  command: string,
): Promise<Record<string, string>> {
  if (names.length === 0) return {};
  const fromFile = sources.file === undefined ? {} : await loadSecretsFile(sources.file);
  return resolveSecrets(names, fromFile, sources.env, {
    command,
    ...(sources.file === undefined ? {} : { file: sources.file }),
  });
}

function suggestName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned || 'SECRET';
}

/** Secret values shorter than this are not redacted: they would blank out ordinary words. */
export const MIN_REDACTED_SECRET_LENGTH = 4;
export const REDACTED = '[REDACTED]';

export interface Redactor {
  /** Byte length of the longest redacted value (0 when none). */
  readonly maxBytes: number;
  /** Redacts `text`, returning at most its first `limit` characters (redacted) when given. */
  redact(text: string, limit?: number): string;
}

/**
 * The forms a secret takes in text: as it is, escaped inside a JSON string (a command logging
 * `JSON.stringify({ token })`, or our own quoting of an argument), URL-encoded (with `%20` or
 * `+` for spaces), and base64 / base64url (a Basic auth header). Each is redacted.
 */
export function secretForms(value: string): string[] {
  const url = encodeURIComponent(value);
  const base64 = Buffer.from(value, 'utf8').toString('base64');
  return [
    value,
    JSON.stringify(value).slice(1, -1),
    url,
    url.replaceAll('%20', '+'),
    base64,
    base64.replace(/=+$/, ''),
    Buffer.from(value, 'utf8').toString('base64url'),
  ];
}

export function redactor(secrets: Readonly<Record<string, string>>): Redactor {
  const values = [
    ...new Set(
      Object.values(secrets)
        .filter((v) => v.length >= MIN_REDACTED_SECRET_LENGTH)
        .flatMap(secretForms),
    ),
  ];
  values.sort((a, b) => b.length - a.length);
  const re = values.length === 0 ? null : new RegExp(values.map(escapeRegExp).join('|'), 'g');
  const maxBytes = values.reduce((max, v) => Math.max(max, Buffer.byteLength(v)), 0);
  return {
    maxBytes,
    redact(text, limit = text.length) {
      if (re === null) return text.slice(0, limit);
      let result = '';
      let pos = 0;
      re.lastIndex = 0;
      // A match that starts before the limit is replaced whole, even when it runs past it,
      // so a cut line never shows the first part of a secret.
      for (let m = re.exec(text); m !== null && m.index < limit; m = re.exec(text)) {
        result += text.slice(pos, m.index) + REDACTED;
        pos = m.index + m[0].length;
      }
      if (pos < limit) result += text.slice(pos, limit);
      return result;
    },
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
