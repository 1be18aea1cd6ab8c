/**
 * Sources that misbehave at the HTTP level: a body far too large (declared or not), an endless
 * stream, one byte a second. Each is bounded (size limit or timeout) and reported as one clear
 * line naming the source; the run exits 1 and the process never buffers without limit.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opower } from '../../src/agents/opower/index.ts';
import { weather } from '../../src/agents/weather/index.ts';
import { runCaptured, tempHome } from '../../testing/helpers/run-agent.ts';

type Mode = 'huge' | 'declared-huge' | 'endless' | 'trickle';

let server: http.Server;
let base = '';
const open = new Set<http.ServerResponse>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const mode = (req.url ?? '').split('/')[1] as Mode;
    open.add(res);
    res.on('close', () => open.delete(res));
    const chunk = Buffer.alloc(64 * 1024, '{"reads":[');
    if (mode === 'declared-huge') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(200 * 2 ** 20) });
      res.write(chunk);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    if (mode === 'trickle') {
      const timer = setInterval(() => res.write('['), 1000);
      res.on('close', () => clearInterval(timer));
      return;
    }
    let sent = 0;
    const pump = (): void => {
      while (mode === 'endless' || sent < 48 * 2 ** 20) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of open) res.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const weatherEnv = (mode: Mode): Record<string, string> => ({ WEATHER_LATITUDE: '34.14', WEATHER_LONGITUDE: '-118.25', WEATHER_BASE_URL: `${base}/${mode}`, WEATHER_ARCHIVE_BASE_URL: `${base}/${mode}`, HOMEFLUX_HTTP_TIMEOUT: '2' });
const opowerEnv = (mode: Mode): Record<string, string> => ({ OPOWER_UTILITY: 'gwp', OPOWER_USERNAME: 'me@example.com', OPOWER_PASSWORD: 'sentinel-pass-42', OPOWER_BASE_URL: `${base}/${mode}`, HOMEFLUX_HTTP_TIMEOUT: '2' });
const NOW = Date.parse('2025-11-20T15:42:00Z') / 1000;

describe('hostile sources', () => {
  it.each(['huge', 'declared-huge', 'endless'] as const)('weather: a %s body is refused past the size limit', async (mode) => {
    const home = await tempHome('hostile');
    const before = process.memoryUsage().rss;
    const run = await runCaptured(weather, ['--since', '2025-11-19', '--until', '2025-11-20'], { ...home.env, ...weatherEnv(mode) }, { now: NOW });
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/open-meteo forecast API \(\/v1\/forecast\): the response is larger than 32 MiB; refused/);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 2 ** 20);
  });

  it.each(['huge', 'endless'] as const)('opower: a %s sign-in answer is refused past the size limit, without the password in output', async (mode) => {
    const home = await tempHome('hostile');
    const run = await runCaptured(opower, ['--since', '2025-11-17', '--until', '2025-11-18'], { ...home.env, ...opowerEnv(mode) }, { now: NOW });
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/sign-in to Glendale Water and Power: the response is larger than 32 MiB; refused/);
    expect(run.all).not.toContain('sentinel-pass-42');
  });

  it('one byte a second: bounded by the request timeout and reported', async () => {
    const home = await tempHome('hostile');
    const started = Date.now();
    const run = await runCaptured(weather, ['--since', '2025-11-19', '--until', '2025-11-20'], { ...home.env, ...weatherEnv('trickle') }, { now: NOW });
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/did not answer within 2 s \(HOMEFLUX_HTTP_TIMEOUT\)/);
    // Four attempts of at most 2 s each plus backoff between them.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('opower: a sign-in answer trickling in is a timeout, retried, then one clear line', async () => {
    const home = await tempHome('hostile');
    const run = await runCaptured(opower, ['--since', '2025-11-17', '--until', '2025-11-18'], { ...home.env, ...opowerEnv('trickle') }, { now: NOW });
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/sign-in to Glendale Water and Power did not answer in time \(HOMEFLUX_HTTP_TIMEOUT\)/);
    expect(run.all).not.toMatch(/TimeoutError|DOMException/);
  });
});
