import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Logger } from '../src/log.ts';

function capture(env: Record<string, string>, verbose = false): { log: Logger; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { log: new Logger({ env, verbose, streams: { out: (l) => out.push(l), err: (l) => err.push(l) } }), out, err };
}

describe('Logger', () => {
  it('prints plain lines on a terminal', () => {
    const { log, out, err } = capture({});
    log.info('wrote 3 points');
    log.warn('slow', 'opower');
    log.error('down');
    log.debug('hidden');
    expect(out).toEqual(['wrote 3 points']);
    expect(err).toEqual(['warning: opower: slow', 'error: down']);
  });

  it('speaks workflow commands on GitHub Actions, escaping what could end a command', async () => {
    const summary = join(await mkdtemp(join(tmpdir(), 'summary-')), 'step.md');
    await writeFile(summary, '');
    const { log, out, err } = capture({ GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary }, true);
    log.error('line one\nline two 100%', 'opower: gwp');
    log.warn('careful');
    await log.group('collect', async () => log.info('inside'));
    log.debug('detail');
    log.mask('session-cookie-value');
    log.info('cookie session-cookie-value sent');
    log.summary('| a | b |');
    expect(out).toEqual([
      '::error title=opower%3A gwp::line one%0Aline two 100%25',
      '::warning::careful',
      '::group::collect',
      'inside',
      '::endgroup::',
      '::add-mask::session-cookie-value',
      'cookie *** sent',
    ]);
    expect(err).toEqual(['::debug::detail']);
    expect(await readFile(summary, 'utf8')).toBe('| a | b |\n');
  });

  it('redacts configured secrets, run-time masks and credentials in URLs everywhere', () => {
    const { log, out, err } = capture({ INFLUX_TOKEN: 'tok-123456', OPOWER_PASSWORD: 'hunter22', WEATHER_LOCATION: 'plain-value' });
    log.info('token tok-123456 and hunter22 and plain-value');
    log.error('GET https://me:pa55word@db.example.com/write?u=me&p=pa55word failed');
    expect(out).toEqual(['token *** and *** and plain-value']);
    expect(err).toEqual(['error: GET https://***@db.example.com/write?u=***&p=*** failed']);
  });
});
