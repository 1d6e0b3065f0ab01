import { describe, expect, it } from 'vitest';
import { parseFunctionEnv } from '../../lib/wiring/aws.js';
import {
  credentialsFromEnv,
  UsageError,
} from '../../lib/wiring/credentials.js';

describe('parseFunctionEnv', () => {
  it('treats an empty variable as unset', () => {
    const env = parseFunctionEnv({
      SELECTEL_USERNAME: '',
      STATE_TABLE: 'state',
      SECRETS_MAX_AGE_SECONDS: '',
    });

    expect(env.SELECTEL_USERNAME).toBeUndefined();
    expect(env.STATE_TABLE).toBe('state');
    expect(env.SECRETS_MAX_AGE_SECONDS).toBe(300);
    expect(env.BUDGET_GUARD_CONFIG).toBe('budgets.json');
  });

  it('names an invalid variable', () => {
    expect(() => parseFunctionEnv({ SECRETS_MAX_AGE_SECONDS: 'soon' })).toThrow(
      /invalid environment variable SECRETS_MAX_AGE_SECONDS/,
    );
  });
});

describe('credentialsFromEnv', () => {
  it.each([
    [{ SELECTEL_API_KEY: 'k' }, { kind: 'apiKey', apiKey: 'k' }],
    [
      { SELECTEL_USERNAME: 'u', SELECTEL_PASSWORD: 'p' },
      { kind: 'serviceUser', username: 'u', password: 'p' },
    ],
  ])('reads %j', (env, expected) => {
    expect(credentialsFromEnv(env, '123456')).toEqual(expected);
  });

  it.each([
    [{}, /credentials are missing/],
    [{ SELECTEL_USERNAME: 'u' }, /SELECTEL_PASSWORD is missing/],
    [
      { SELECTEL_API_KEY: 'k', SELECTEL_ACCOUNT: '999' },
      /SELECTEL_ACCOUNT=999 differs from account "123456"/,
    ],
  ])('rejects %j', (env, message) => {
    expect(() => credentialsFromEnv(env, '123456')).toThrow(UsageError);
    expect(() => credentialsFromEnv(env, '123456')).toThrow(message);
  });
});
