// The server's own log never shows the API token or the store's password, in any form a
// line can carry them: as they are, JSON-escaped (every JSON line), URL-encoded or base64,
// in a message, an error's message or stack, or a logged request's Authorization header.

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, LOG_FORMATS, storePassword } from '../../src/cli/log-format.ts';
import { secretForms } from '../../src/runtime/secrets.ts';

const TOKEN = 'api"tok\\en a&b=c/d+e é€ 42';
const PASSWORD = 'p@ss w"rd/é+1';
const DB_URL = `postgres://app:${encodeURIComponent(PASSWORD)}@127.0.0.1:5432/mainspring`;

function sink() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe.each(LOG_FORMATS)('the server log (%s)', (format) => {
  it('redacts the API token and the store password in every form', async () => {
    const out = sink();
    const secrets = [TOKEN, storePassword(DB_URL)];
    expect(secrets[1]).toBe(PASSWORD);
    const log = await createLogger(format, 'info', { destination: out.stream, secrets });
    log.info(`listening with token ${TOKEN}`);
    log.error({ err: new Error(`could not connect to ${DB_URL} as app/${PASSWORD}`) }, 'store down');
    log.info({ req: { method: 'GET', headers: { authorization: `Bearer ${TOKEN}` } } }, 'request');
    log.warn({ url: `/v1/runs?token=${encodeURIComponent(TOKEN)}` }, 'query');
    log.info({ basic: Buffer.from(TOKEN).toString('base64') }, 'basic');
    const text = out.text();
    expect(text).toContain('store down');
    expect(text).toContain('[REDACTED]');
    // The URL's own percent-encoding of the password is one more form.
    const forms = [...secretForms(TOKEN), ...secretForms(PASSWORD), new URL(DB_URL).password];
    for (const form of forms) expect(text.includes(form), `log holds ${JSON.stringify(form)}`).toBe(false);
  });

  it('leaves a log with no secrets as it is', async () => {
    const out = sink();
    const log = await createLogger(format, 'info', { destination: out.stream, secrets: [undefined] });
    log.info({ token: 12 }, 'lock renewed');
    expect(out.text()).toContain('lock renewed');
    expect(out.text()).not.toContain('[REDACTED]');
  });
});
