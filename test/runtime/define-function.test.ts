// defineFunction's `record` option: which queue-triggered runs keep a record.

import { describe, expect, it } from 'vitest';
import { MainspringError } from '../../src/core/errors.ts';
import { defineFunction, type RecordRuns } from '../../src/runtime/function.ts';

describe('defineFunction({ record })', () => {
  it('keeps every run by default, and takes failures or none', () => {
    expect(defineFunction({ name: 'f', handler: () => {} }).record).toBe('all');
    for (const record of ['all', 'failures', 'none'] as const)
      expect(defineFunction({ name: 'f', handler: () => {}, record }).record).toBe(record);
  });

  it('refuses anything else, naming the field and the values it takes', () => {
    const attempt = () => defineFunction({ name: 'f', handler: () => {}, record: 'errors' as RecordRuns });
    expect(attempt).toThrow(MainspringError);
    expect(attempt).toThrow('function "f": record is "errors"; use "all", "failures" or "none"');
    try {
      attempt();
    } catch (err) {
      expect((err as MainspringError).details).toMatchObject({ field: 'record', value: 'errors' });
    }
  });
});
