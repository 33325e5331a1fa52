// Finds and loads mainspring.config.ts (or .mts/.js/.mjs). Node 24 runs the
// TypeScript directly by erasing its types, so no build step stands between
// editing the config and starting.

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type MainspringConfig, validateConfig } from '../config.ts';
import { isMainspringError, MainspringError } from '../core/errors.ts';

export const CONFIG_FILES = [
  'mainspring.config.ts',
  'mainspring.config.mts',
  'mainspring.config.js',
  'mainspring.config.mjs',
];

// What Node says when a file it loads as CommonJS uses import/export (Node 24).
const ESM_SYNTAX_IN_CJS =
  /Cannot use import statement outside a module|Unexpected token 'export'|Cannot use 'import\.meta' outside a module/;

/**
 * The fix for a config using import/export that Node loaded as CommonJS: a .ts or .js file
 * under a package.json saying "type": "commonjs", as `npm init` writes it. (Without a
 * "type", Node detects the syntax, loads the file and warns.) Null for any other error.
 */
function esmInCommonJsHint(path: string, err: unknown): string | null {
  const ext = extname(path);
  if ((ext !== '.ts' && ext !== '.js') || (err as Error | null)?.name !== 'SyntaxError') return null;
  if (!ESM_SYNTAX_IN_CJS.test((err as Error).message)) return null;
  const pkg = nearestPackageJson(dirname(path));
  const says = pkg && packageType(pkg) === 'commonjs' ? 'says "type": "commonjs"' : 'has no "type": "module"';
  const because = pkg ? `${pkg} ${says}, so Node loads it as CommonJS` : 'Node loads it as CommonJS';
  return `the file uses import/export, but ${because}: add "type": "module" to ${pkg ?? 'package.json'} or name the file ${basename(path, ext)}.m${ext.slice(1)}`;
}

function packageType(pkg: string): unknown {
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown } | null)?.type;
  } catch {
    return undefined;
  }
}

function nearestPackageJson(dir: string): string | null {
  for (let d = dir; ; d = dirname(d)) {
    const candidate = join(d, 'package.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(d) === d) return null;
  }
}

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
        : (esmInCommonJsHint(path, err) ?? 'fix the error in the file; it runs when mainspring starts');
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
