// The Node.js version mainspring needs (24: node:sqlite, type stripping for
// TypeScript configs), and the one line that says so on an older one. Written
// so that Node 20 can load it: the CLI checks before it imports anything else.

export const NODE_MAJOR_REQUIRED = 24;

/**
 * The line to print when `version` (as `process.version`, e.g. `v20.19.0`) is too old to
 * run mainspring, or null when it will do.
 *
 * @example
 * nodeTooOld('v20.19.0');
 * // 'mainspring needs Node.js 24 or later (this is v20.19.0); install it from https://nodejs.org or with `nvm install 24`'
 */
export function nodeTooOld(version: string): string | null {
  const major = Number.parseInt(version.replace(/^v/, ''), 10);
  if (major >= NODE_MAJOR_REQUIRED) return null;
  return `mainspring needs Node.js ${NODE_MAJOR_REQUIRED} or later (this is ${version}); install it from https://nodejs.org or with \`nvm install ${NODE_MAJOR_REQUIRED}\``;
}
