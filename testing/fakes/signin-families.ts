/**
 * One place that knows which fake speaks each sign-in family: given a utility of the table and the
 * fake Opower portal, start its family's fake site and say how to point the agent at it. Used by
 * the sweep over every utility and by the all-scripts secret test.
 */
import { PassThrough } from 'node:stream';
import { loginCommand } from '../../src/run/opower-login.ts';
import type { Utility } from '../../src/agents/opower/utilities.ts';
import { startAepSite } from './aep-site.ts';
import { startConedSite } from './coned-site.ts';
import { startEversourceSite } from './eversource-site.ts';
import { startExelonSite, type ExelonSite } from './exelon-site.ts';
import { startNationalGridSite } from './nationalgrid-site.ts';
import { startPageTokenSite } from './page-token-site.ts';
import { startPortlandGeneralSite } from './portlandgeneral-site.ts';
import { startOpowerPortal, type OpowerPortal, type OpowerPortalOptions } from './opower-portal.ts';

/** The authenticator secret the ConEd-family fakes are given (base32, RFC 4648 alphabet). */
export const FAMILY_TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DQ';
/** HOMEFLUX_STATE_KEY for kept sessions in tests. */
export const FAMILY_STATE_KEY = 'sntl-state-key-0123456789abcdef';

/** A utility's portal and family fake, running. */
export interface FamilyFake {
  portal: OpowerPortal;
  /** The Opower utility code the data paths should carry. */
  code: string;
  /** Environment pointing the agent at the fakes (with the credentials). */
  env: Record<string, string>;
  /** Secrets the fakes issued (tokens, codes), for "in no output" checks. */
  issued(): string[];
  /** Sign in once as `--login` would, typing the code the fake sent (Exelon); no-op elsewhere. */
  login(env: Record<string, string>): Promise<number>;
  exelon?: ExelonSite;
  stop(): Promise<void>;
}

/** What the AEP fake's signed-in page names as the portal (the real subdomains are in no source we hold). */
const aepSubdomain = (utility: Utility): string => utility.id;

/** Start the fakes for `utility` with the given credentials. */
export async function startFamily(utility: Utility, credentials: { username: string; password: string; totpSecret?: string }, portalOptions: OpowerPortalOptions = {}): Promise<FamilyFake> {
  const kind = utility.login.kind;
  const code = kind === 'aep-form' ? aepSubdomain(utility) : utility.code;
  const { totpSecret = FAMILY_TOTP_SECRET, ...login } = credentials;
  const portal = await startOpowerPortal({ code, timezone: utility.timezone, ...login, ...(kind === 'wall-signin' ? { signinWall: '204' } : {}), ...portalOptions });
  const env: Record<string, string> = { OPOWER_UTILITY: utility.id, OPOWER_USERNAME: credentials.username, OPOWER_PASSWORD: credentials.password, OPOWER_BASE_URL: portal.url };
  const base = { portal, code, env, issued: () => [...portal.sessionCookies], login: async () => 0 };
  switch (kind) {
    case 'json-signin':
    case 'wall-signin':
      return { ...base, stop: () => portal.stop() };
    case 'coned-totp': {
      const site = await startConedSite({ portal, ...login, totpSecret });
      return { ...base, env: { ...env, OPOWER_LOGIN_BASE_URL: site.url, OPOWER_TOTP_SECRET: totpSecret }, stop: async () => void (await Promise.all([portal.stop(), site.stop()])) };
    }
    case 'aep-form': {
      const site = await startAepSite({ portal, ...login, subdomain: code });
      return { ...base, env: { ...env, OPOWER_LOGIN_BASE_URL: site.url }, stop: async () => void (await Promise.all([portal.stop(), site.stop()])) };
    }
    case 'nationalgrid-b2c': {
      const site = await startNationalGridSite({ portal, ...login });
      return { ...base, env: { ...env, OPOWER_LOGIN_BASE_URL: site.url }, issued: () => [...portal.sessionCookies, ...site.issued], stop: async () => void (await Promise.all([portal.stop(), site.stop()])) };
    }
    case 'exelon-b2c-mfa': {
      const site = await startExelonSite({ portal, ...login, tenantName: `euazure${utility.id}`, clientId: utility.signin!.clientId!, mobileId: utility.signin!.mobileId!, mfa: 'email-only' });
      return {
        ...base,
        env: { ...env, OPOWER_LOGIN_BASE_URL: site.url, HOMEFLUX_STATE_KEY: FAMILY_STATE_KEY },
        exelon: site,
        issued: () => [...portal.sessionCookies, ...site.issued, ...site.sentCodes.map((c) => c.code)],
        login: (runEnv) => typeAtLogin(site, runEnv),
        stop: async () => void (await Promise.all([portal.stop(), site.stop()])),
      };
    }
    case 'pse-page-token':
    case 'dqe-page-token': {
      const site = await startPageTokenSite({ variant: kind === 'pse-page-token' ? 'pse' : 'duquesne', portal, ...login });
      return { ...base, env: { ...env, OPOWER_LOGIN_BASE_URL: site.url }, stop: async () => void (await Promise.all([portal.stop(), site.stop()])) };
    }
    case 'pge-cognito': {
      const site = await startPortlandGeneralSite({ portal, ...login });
      return { ...base, env: { ...env, OPOWER_LOGIN_BASE_URL: site.url }, issued: () => [...portal.sessionCookies, ...site.issued], stop: async () => void (await Promise.all([portal.stop(), site.stop()])) };
    }
    case 'eversource-okta': {
      const site = await startEversourceSite({ portal, ...login });
      return { ...base, env: { ...env, OPOWER_LOGIN_BASE_URL: site.url }, issued: () => [...portal.sessionCookies, ...site.issued], stop: async () => void (await Promise.all([portal.stop(), site.stop()])) };
    }
    default:
      throw new Error(`no fake for the sign-in family ${kind} (${utility.id}): add one in testing/fakes/`);
  }
}

/** Run `--login` in-process, answering its questions: e-mail, then the code the fake "sent". */
export async function typeAtLogin(site: ExelonSite, env: Record<string, string>, seen: { prompts: string[]; lines: string[] } = { prompts: [], lines: [] }): Promise<number> {
  const input = new PassThrough();
  return loginCommand(
    { argv: ['--login'], env, signal: new AbortController().signal, interrupt: new AbortController().signal },
    {
      input,
      log: { out: (line) => seen.lines.push(line), err: (line) => seen.lines.push(line) },
      prompt: (text) => {
        seen.prompts.push(text);
        input.write(text.startsWith('Type the code') ? `${site.sentCodes.at(-1)?.code ?? ''}\n` : '1\n');
      },
    },
  );
}
