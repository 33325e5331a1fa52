// What a value refers to or leaves to the deploy tool: queue references (`Fn::GetAtt`, `Ref`,
// ARNs, Stacktape's `$ResourceParam`) and computed values (`${…}`, directives, intrinsics).

import { isRecord, show } from './values.ts';

/** Stacktape directives (`$Secret('x')`, `$ResourceParam('q', 'arn')`). */
export const DIRECTIVE = /^\$[A-Za-z]+\(/;

/** A value the deploy tool computes: `${…}` variables, Stacktape directives, CloudFormation intrinsics. */
export function isComputed(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('${') || DIRECTIVE.test(value.trim());
  if (isRecord(value)) {
    const keys = Object.keys(value);
    return keys.length === 1 && (keys[0] === 'Ref' || (keys[0] ?? '').startsWith('Fn::'));
  }
  return false;
}

/**
 * What a reference names: `{ 'Fn::GetAtt': [Id, Arn] }` / `{ Ref: Id }` / Stacktape's
 * `$ResourceParam('id', 'arn')` → a resource id; an ARN (`arn:aws:sqs:region:acct:name`, also as
 * `Fn::Sub` / `Fn::Join`) → the AWS name.
 */
export type Reference = { readonly resource: string } | { readonly awsName: string } | undefined;

export function reference(value: unknown): Reference {
  if (isRecord(value)) {
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return { resource: getAtt[0] };
    if (typeof getAtt === 'string') return { resource: getAtt.split('.')[0] ?? getAtt };
    if (typeof value.Ref === 'string') return { resource: value.Ref };
    const sub = value['Fn::Sub'];
    if (typeof sub === 'string') return arnName(sub);
    const join = value['Fn::Join'];
    if (Array.isArray(join) && Array.isArray(join[1])) {
      const last = join[1].at(-1);
      if (typeof last === 'string' && (join[0] === ':' || last.includes(':'))) return arnName(last);
    }
    return undefined;
  }
  if (typeof value !== 'string') return undefined;
  const directive = /^\$(?:ResourceParam|CfResourceParam|Param)\(\s*['"]([^'"]+)['"]/.exec(value.trim());
  if (directive?.[1]) return { resource: directive[1] };
  return arnName(value);
}

/** The last segment of an ARN, when it is literal (`…:${self:custom.queue}` is not). */
function arnName(arn: string): Reference {
  const last = arn.slice(arn.lastIndexOf(':') + 1).trim();
  return last && !/[${}]/.test(last) ? { awsName: last } : undefined;
}

/** One environment variable: its name, its value, and its value's text as written when known. */
export type EnvEntry = readonly [name: string, value: unknown, source?: string];

/**
 * Literal variables go to `env`; computed ones to `computed`, name → the expression as written
 * (a later entry of the same name replaces an earlier one, as a function's env overrides the provider's).
 */
export function splitEnv(entries: readonly EnvEntry[]): {
  env: Record<string, string>;
  computed: Record<string, string>;
} {
  const env: Record<string, string> = {};
  const computed: Record<string, string> = {};
  for (const [name, value, source] of entries) {
    delete env[name];
    delete computed[name];
    if (isComputed(value) || (typeof value === 'object' && value !== null)) {
      // A string is its own text (minus quotes); an intrinsic reads best as written, `!Ref Queue`.
      computed[name] = typeof value === 'string' ? value : (source ?? show(value));
    } else if (value !== null && value !== undefined) env[name] = String(value);
  }
  return { env, computed };
}
