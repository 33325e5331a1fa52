import { describe, expect, it } from 'vitest';
import { nodeTooOld } from '../../src/core/node-version.ts';

describe('nodeTooOld', () => {
  it('names the version it got, the one needed, and how to get it', () => {
    expect(nodeTooOld('v20.19.0')).toBe(
      'mainspring needs Node.js 24 or later (this is v20.19.0); install it from https://nodejs.org or with `nvm install 24`',
    );
    expect(nodeTooOld('v23.11.1')).toMatch(/^mainspring needs Node.js 24 or later \(this is v23.11.1\)/);
    expect(nodeTooOld('v8.17.0')).not.toBeNull();
  });

  it('accepts 24 and later', () => {
    expect(nodeTooOld('v24.0.0')).toBeNull();
    expect(nodeTooOld('v24.21.0')).toBeNull();
    expect(nodeTooOld('v26.1.0')).toBeNull();
  });
});
