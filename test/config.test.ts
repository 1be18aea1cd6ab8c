import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig, readEnv } from '../src/config.ts';
import { ConfigError } from '../src/errors.ts';

describe('loadConfig', () => {
  it('defaults to the file store when INFLUX_URL is unset', () => {
    const c = loadConfig({ HOMEFLUX_TIMEZONE: 'UTC' });
    expect(c.target).toEqual({ kind: 'file', dataDir: './data' });
    expect(c).toMatchObject({ bucketPrefix: 'home', spoolDir: './spool', dryRun: false, weekStart: 'monday', units: 'imperial', timezone: 'UTC' });
  });

  it('picks v2 by default and v1 on request', () => {
    expect(loadConfig({ INFLUX_URL: 'http://db:8086/', INFLUX_TOKEN: 't', INFLUX_ORG: 'o' }).target).toEqual({ kind: 'v2', url: 'http://db:8086', token: 't', org: 'o' });
    expect(loadConfig({ INFLUX_URL: 'http://db:8086', INFLUX_API: 'v1', INFLUX_USERNAME: 'u', INFLUX_PASSWORD: 'p' }).target).toEqual({
      kind: 'v1',
      url: 'http://db:8086',
      username: 'u',
      password: 'p',
    });
  });

  it.each([
    ['true', true],
    ['false', false],
    ['1', true],
    ['0', false],
    ['TRUE', true],
  ])('reads HOMEFLUX_DRY_RUN=%s strictly as %s', (value, expected) => {
    expect(loadConfig({ HOMEFLUX_DRY_RUN: value }).dryRun).toBe(expected);
  });

  it.each([
    [{ HOMEFLUX_DRY_RUN: 'maybe' }, 'HOMEFLUX_DRY_RUN'],
    [{ INFLUX_URL: 'ftp://user:hunter2@db' }, 'INFLUX_URL'],
    [{ INFLUX_API: 'v3' }, 'INFLUX_API'],
    [{ HOMEFLUX_TIMEZONE: 'Mars/Olympus' }, 'HOMEFLUX_TIMEZONE'],
    [{ HOMEFLUX_WEEK_START: 'someday' }, 'HOMEFLUX_WEEK_START'],
    [{ HOMEFLUX_UNITS: 'furlongs' }, 'HOMEFLUX_UNITS'],
  ])('names the bad variable %j without printing its value', (env, variable) => {
    const error = (() => {
      try {
        loadConfig(env);
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(variable)).toBe(true);
    for (const value of Object.values(env)) expect(error.message).not.toContain(value);
  });
});

describe('readEnv', () => {
  const schema = z.object({ user: z.string(), uuid: z.string().optional() });
  it('reads aliases in order and reports the first name when missing', () => {
    expect(readEnv(schema, { GWP_USER: 'me' }, { user: ['OPOWER_USERNAME', 'GWP_USER'], uuid: ['OPOWER_ACCOUNT_UUID', 'GWP_UUID'] })).toEqual({ user: 'me' });
    expect(readEnv(schema, { GWP_USER: 'me', OPOWER_USERNAME: 'you' }, { user: ['OPOWER_USERNAME', 'GWP_USER'], uuid: 'X' }).user).toBe('you');
    expect(() => readEnv(schema, { OPOWER_USERNAME: '  ' }, { user: ['OPOWER_USERNAME', 'GWP_USER'], uuid: 'X' })).toThrow('OPOWER_USERNAME is required but not set');
  });
});
