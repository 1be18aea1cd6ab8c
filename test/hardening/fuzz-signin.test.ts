/**
 * Every sign-in family under a broken or hostile site: a proxy between the sign-in and its
 * family's fake changes one answer of the flow — its status, its body (empty, a maintenance page,
 * cut short, mutated JSON, strange text), or drops its cookies or redirect target — and the
 * sign-in must either still succeed or fail with a typed error (AuthError, TransientError, …)
 * whose message names the utility and never the password; never a TypeError or other untyped
 * exception (the client would report it as a network failure, hiding the bug).
 *
 * The strategies are called directly (not through the client, whose wrapper turns untyped
 * errors into TransientError), with a cookie-keeping fetch as the client gives them.
 */
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_USER_AGENT } from '../../src/agents/opower/client.ts';
import { makeFetchCookie } from '../../src/deps.ts';
import { TransientError } from '../../src/errors.ts';
import { UTILITIES, type LoginContext, type Utility } from '../../src/agents/opower/utilities.ts';
import { sealedSession } from '../../src/agents/opower/session.ts';
import { FAMILY_STATE_KEY, type FamilyFake, startFamily } from '../../testing/fakes/signin-families.ts';
import { listenLoopback } from '../../testing/fakes/site-server.ts';
import { expectTyped, type JsonMutation, jsonMutation, mutateJson, RUNS, strangeText } from './fuzz-helpers.ts';
import { tempHome } from '../../testing/helpers/run-agent.ts';
import path from 'node:path';

const CREDENTIALS = { username: 'fuzz@example.com', password: 'sntl-fuzz-signin-pw-4Kc' };
/** One utility per family (the others differ only in their table row). */
const FAMILIES = ['gwp', 'swg', 'coned', 'aepohio', 'bge', 'nationalgridma', 'pse', 'duquesne', 'portlandgeneral', 'eversource'];

/** What the proxy does to the answer it changes. */
type Change =
  | { kind: 'status'; status: number }
  | { kind: 'body'; body: string }
  | { kind: 'cut' }
  | { kind: 'json'; mutations: JsonMutation[] }
  | { kind: 'text'; text: string }
  | { kind: 'drop-cookies' }
  | { kind: 'drop-location' };

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.constantFrom(200, 204, 302, 400, 401, 403, 404, 429, 500, 502, 503).map((status): Change => ({ kind: 'status', status })),
  fc.constantFrom('', '<!DOCTYPE html><html><head><title>Scheduled maintenance</title></head><body>Back soon</body></html>', '{}', '[]', 'null', '{"status":"200"}', '[{"data":{}}]').map((body): Change => ({ kind: 'body', body })),
  fc.constant<Change>({ kind: 'cut' }),
  fc.array(jsonMutation, { minLength: 1, maxLength: 3 }).map((mutations): Change => ({ kind: 'json', mutations })),
  strangeText.map((text): Change => ({ kind: 'text', text })),
  fc.constant<Change>({ kind: 'drop-cookies' }),
  fc.constant<Change>({ kind: 'drop-location' }),
);

/** A proxy to `target` that applies `plan.change` to answer number `plan.at` (0-based) and counts answers. */
async function startProxy(target: string, plan: { at: number; change?: Change; seen: number }): Promise<{ url: string; stop(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const index = plan.seen++;
      const headers = { ...req.headers };
      delete headers.host;
      fetch(`${target}${req.url}`, { method: req.method, headers: headers as Record<string, string>, body: chunks.length > 0 ? Buffer.concat(chunks) : undefined, redirect: 'manual' })
        .then(async (answer) => {
          let status = answer.status;
          let body = Buffer.from(await answer.arrayBuffer());
          const out: http.OutgoingHttpHeaders = {};
          answer.headers.forEach((value, name) => {
            if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'set-cookie'].includes(name)) out[name] = value;
          });
          const cookies = answer.headers.getSetCookie();
          if (cookies.length > 0) out['set-cookie'] = cookies;
          const c = index === plan.at ? plan.change : undefined;
          if (c?.kind === 'status') status = c.status;
          if (c?.kind === 'body') body = Buffer.from(c.body);
          if (c?.kind === 'cut') body = body.subarray(0, Math.floor(body.length / 2));
          if (c?.kind === 'text') body = Buffer.from(c.text);
          if (c?.kind === 'json') {
            try {
              body = Buffer.from(JSON.stringify(mutateJson(JSON.parse(body.toString('utf8')), c.mutations)) ?? 'null');
            } catch {
              /* not JSON: left as it is */
            }
          }
          if (c?.kind === 'drop-cookies') delete out['set-cookie'];
          if (c?.kind === 'drop-location') delete out.location;
          res.writeHead(status, out);
          res.end(status === 204 || status === 304 ? undefined : body);
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  return listenLoopback(server);
}

/** A network failure as the client reports it (it adds the utility's name when it wraps it). */
class NetworkFailure extends TransientError {}

/** The context the client gives a strategy, with a fresh cookie jar. */
function contextFor(utility: Utility, fake: FamilyFake, urls: { base: string; login?: string }, sessionDir: string): LoginContext {
  const fetchWithCookies = makeFetchCookie(fetch as never, new makeFetchCookie.toughCookie.CookieJar() as never) as unknown as LoginContext['fetch'];
  return {
    // As the client sends them: a browser's User-Agent (the portals' edge filter refuses others) and the utility's headers.
    fetch: (url, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('user-agent', BROWSER_USER_AGENT);
      for (const [name, value] of Object.entries(utility.headers ?? {})) headers.set(name, value);
      // A network failure (a changed answer may lead to a host that does not exist) is what the
      // client turns into a TransientError; any other fetch TypeError is a bug and stays one.
      return fetchWithCookies(url, { ...init, headers, signal: AbortSignal.timeout(5000) }).catch((error: unknown) => {
        if (error instanceof TypeError && error.message === 'fetch failed') throw new NetworkFailure(`network failure: ${String((error.cause as Error | undefined)?.message)}`);
        throw error;
      });
    },
    baseUrl: urls.base,
    loginBaseUrl: urls.login,
    utility,
    username: CREDENTIALS.username,
    password: CREDENTIALS.password,
    totpSecret: fake.env.OPOWER_TOTP_SECRET,
    session: utility.login.keepsSession ? sealedSession(path.join(sessionDir, `${utility.id}.sealed`), FAMILY_STATE_KEY) : undefined,
    signal: new AbortController().signal,
  };
}

describe('sign-in families under a broken site', () => {
  const fakes = new Map<string, FamilyFake>();
  let home: string;
  beforeAll(async () => {
    home = (await tempHome('fuzz-signin')).dir;
    for (const id of FAMILIES) fakes.set(id, await startFamily(UTILITIES[id]!, CREDENTIALS));
  });
  afterAll(async () => {
    await Promise.all([...fakes.values()].map((f) => f.stop()));
  });

  it.each(FAMILIES)('%s: one changed answer → success or a typed error naming the utility', async (id) => {
    const utility = UTILITIES[id]!;
    const fake = fakes.get(id)!;
    // One proxy for the family; `plan` says which answer it changes (none while at = -1).
    const direct = fake.env.OPOWER_LOGIN_BASE_URL === undefined;
    const target = direct ? fake.env.OPOWER_BASE_URL! : fake.env.OPOWER_LOGIN_BASE_URL!;
    const plan: { at: number; change?: Change; seen: number } = { at: -1, seen: 0 };
    const proxy = await startProxy(target, plan);
    const urls = direct ? { base: proxy.url } : { base: fake.env.OPOWER_BASE_URL!, login: proxy.url };
    let failures = 0;
    try {
      // The Exelon family signs in from a kept session: make one through --login (and the proxy) first.
      if (utility.login.keepsSession) expect(await fake.login({ ...fake.env, OPOWER_LOGIN_BASE_URL: proxy.url, HOMEFLUX_DATA_DIR: home, OPOWER_SESSION_FILE: path.join(home, `${id}.sealed`) })).toBe(0);
      // How many answers an undisturbed sign-in takes.
      plan.seen = 0;
      await utility.login.login(contextFor(utility, fake, urls, home));
      const steps = plan.seen;
      expect(steps).toBeGreaterThan(0);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: steps - 1 }), change, async (at, c) => {
          Object.assign(plan, { at, change: c, seen: 0 });
          try {
            await utility.login.login(contextFor(utility, fake, urls, home));
          } catch (error) {
            failures++;
            if (error instanceof NetworkFailure) return;
            expectTyped(error);
            const message = (error as Error).message;
            expect(message).toContain(`(${utility.id})`);
            expect(message).not.toContain(CREDENTIALS.password);
          }
        }),
        { numRuns: Math.max(20, Math.round(RUNS / 10)) },
      );
    } finally {
      await proxy.stop();
    }
    // The changes must bite: a good share of the runs fail (else the proxy changed nothing).
    expect(failures).toBeGreaterThan(0);
  });
});
