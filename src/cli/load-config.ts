// Finds and loads mainspring.config.ts (or .mts/.js/.mjs). Node 24 runs the
// TypeScript directly by erasing its types, so no build step stands between
// editing the config and starting.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type MainspringConfig, validateConfig } from '../config.ts';
import { isMainspringError, MainspringError } from '../core/errors.ts';

export const CONFIG_FILES = [
  'mainspring.config.ts',
  'mainspring.config.mts',
  'mainspring.config.js',
  'mainspring.config.mjs',
];

export interface LoadedConfig {
  readonly config: MainspringConfig;
  /** The file it came from; null when none exists and defaults apply. */
  readonly path: string | null;
}

/**
 * Loads the config. `purpose: 'client'` (commands that operate on a store rather than serve
 * it) does not require webhook secrets, which only serving uses.
 */
export async function loadConfig(
  cwd: string,
  explicit?: string,
  purpose: 'serve' | 'client' = 'serve',
): Promise<LoadedConfig> {
  let path: string | undefined;
  if (explicit) {
    path = resolve(cwd, explicit);
    if (!existsSync(path)) {
      throw new MainspringError(
        'E_CONFIG_NOT_FOUND',
        `config file ${path} does not exist; fix --config or create it`,
        {
          details: { field: 'config', value: explicit },
        },
      );
    }
  } else {
    path = CONFIG_FILES.map((f) => resolve(cwd, f)).find((p) => existsSync(p));
    if (!path) return { config: {}, path: null };
  }

  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    if (isMainspringError(err)) {
      throw new MainspringError('E_CONFIG_INVALID', `config file ${path}: ${err.message}`, { cause: err });
    }
    const code = (err as { code?: string }).code;
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const hint =
      code === 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX' || code === 'ERR_INVALID_TYPESCRIPT_SYNTAX'
        ? 'Node runs the config by erasing its types, so enums, namespaces and parameter properties are not allowed'
        : 'fix the error in the file; it runs when mainspring starts';
    throw new MainspringError('E_CONFIG_INVALID', `config file ${path} failed to load: ${why}; ${hint}`, {
      cause: err,
      details: { field: 'config', value: path },
    });
  }
  if (!('default' in mod) || mod['default'] === undefined) {
    throw new MainspringError(
      'E_CONFIG_INVALID',
      `config file ${path} exports nothing usable: it has no default export; write \`export default defineConfig({ … })\``,
      { details: { field: 'config', value: path } },
    );
  }
  return {
    config: validateConfig(mod['default'], `config file ${path}`, { requireSecrets: purpose === 'serve' }),
    path,
  };
}
