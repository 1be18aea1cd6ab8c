/**
 * `scrape`: declarative HTML/JSON page scraping (device status pages, smart plugs, UPS cards).
 *
 * Each run fetches every configured page once (logging in first when the page says so) and
 * writes one sample per value, stamped with the current minute. A value that cannot be read,
 * a page that cannot be fetched or a failed login is one problem line naming the page and the
 * value; every other value is still written.
 */
import { z } from '../../deps.ts';
import type { Config, Env } from '../../config.ts';
import { messageOf } from '../../errors.ts';
import type { DataRecord } from '../../records.ts';
import type { Agent, AgentLimits, AgentModule, CollectContext } from '../agent.ts';
import { loadScrapeConfig, scrapeConfigSchema } from './settings.ts';
import { pageRecords } from './parse.ts';
import { cookieFetch, fetchPage, login } from './client.ts';

/** Settings of the scrape agent: the parsed config file plus the credentials it names. */
export const scrapeSettings = z.object({
  config: scrapeConfigSchema,
  /** Values of the credential variables the logins name (kept out of the config file). */
  credentials: z.record(z.string(), z.string()),
});

/** Parsed scrape settings. */
export type ScrapeSettings = z.output<typeof scrapeSettings>;

/** Build the scrape agent; `now` (Unix s) is for tests, default the clock. */
export function createScrapeAgent(settings: ScrapeSettings, config: Config, now: () => number = () => Date.now() / 1000): Agent {
  return {
    name: 'scrape',
    async collect(_window, context: CollectContext): Promise<DataRecord[]> {
      // A sample belongs to the minute it was taken in, so re-runs within a minute overwrite.
      const time = Math.floor(now() / 60) * 60;
      const records: DataRecord[] = [];
      const timeoutMs = config.httpTimeoutSeconds * 1000;
      for (const page of settings.config.pages) {
        if (context.signal.aborted) break;
        const fetcher = cookieFetch();
        let fetched;
        try {
          if (page.login) await login(fetcher, page, { env: settings.credentials, log: context.log, timeoutMs, signal: context.signal });
          fetched = await fetchPage(fetcher, page, { timeoutMs, signal: context.signal });
        } catch (error) {
          context.problem(new Error(`page "${page.name}": ${messageOf(error)}; its ${page.values.length} value(s) not read`));
          continue;
        }
        const mapped = pageRecords(page, fetched, { source: settings.config.source, time, units: config.units });
        records.push(...mapped.records);
        for (const problem of mapped.problems) context.problem(problem);
      }
      return records;
    },
  };
}

/** The scrape agent module (`SCRAPE_CONFIG`). */
export const scrape: AgentModule<ScrapeSettings> = {
  name: 'scrape',
  description: 'Read values from device status pages (HTML or JSON) as configured in SCRAPE_CONFIG.',
  requires: [['SCRAPE_CONFIG']],
  settings: scrapeSettings,
  fromEnv(env: Env): ScrapeSettings {
    const parsed = loadScrapeConfig(env);
    const credentials: { [name: string]: string } = {};
    for (const page of parsed.pages) {
      if (!page.login) continue;
      for (const variable of [page.login.usernameEnv, page.login.passwordEnv]) credentials[variable] = env[variable]!;
    }
    return { config: parsed, credentials };
  },
  create: (settings, config) => createScrapeAgent(settings, config),
  limits: (): AgentLimits => ({
    maxWindow: { maxSeconds: Number.MAX_SAFE_INTEGER },
    lookback: 60,
    rollups: [],
    // A scrape is a sample of now: the window only labels the run.
    defaultWindow: (now) => ({ start: now - 60, end: now }),
  }),
};
