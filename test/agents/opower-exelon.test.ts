/**
 * The Exelon group: B2C with PKCE and a one-time code by e-mail or text (testing/fakes/exelon-site.ts).
 * `scripts/opower.ts --login` runs as a real child process with the code typed on its standard
 * input; later runs work from the sealed session alone (refresh, re-seal, Opower token). Every
 * refusal is one line naming the utility and the step, and nothing secret is in any output or file.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opower } from '../../src/agents/opower/index.ts';
import { UTILITIES } from '../../src/agents/opower/utilities.ts';
import { seal, unseal } from '../../src/state-crypto.ts';
import { startExelonSite, type ExelonSite } from '../../testing/fakes/exelon-site.ts';
import { FAKE_ACCOUNT, startOpowerPortal, type OpowerPortal } from '../../testing/fakes/opower-portal.ts';
import { typeAtLogin } from '../../testing/fakes/signin-families.ts';
import { readTree, runCaptured, tempHome } from '../../testing/helpers/run-agent.ts';
import { points } from './opower-helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NOW = Math.floor(Date.parse('2026-04-01T16:00:00Z') / 1000);
const USER = 'ratepayer@example.com';
const PASSWORD = 'sntl-exelon-password-Yt4';
const KEY = 'sntl-exelon-state-key-0123456789';
const BGE = UTILITIES.bge!;
const PEPCO = UTILITIES.pepco!;

let portal: OpowerPortal;
let site: ExelonSite;
let choice: ExelonSite;
let locked: ExelonSite;
beforeAll(async () => {
  portal = await startOpowerPortal({ code: 'bgec', timezone: 'America/New_York', now: NOW, meteredUntil: NOW });
  const common = { portal, username: USER, password: PASSWORD, tenantName: 'euazurebge', clientId: BGE.signin!.clientId!, mobileId: BGE.signin!.mobileId! };
  site = await startExelonSite({ ...common, mfa: 'email-only' });
  choice = await startExelonSite({ ...common, mfa: 'choice' });
  locked = await startExelonSite({ ...common, mfa: 'email-only', locked: true });
});
afterAll(async () => {
  await Promise.all([portal?.stop(), site?.stop(), choice?.stop(), locked?.stop()]);
});

type Home = Awaited<ReturnType<typeof tempHome>>;
const envFor = (home: Home, siteUrl: string, extra: Record<string, string> = {}): Record<string, string> => ({
  ...home.env,
  HOMEFLUX_TIMEZONE: 'America/New_York',
  OPOWER_UTILITY: 'bge',
  OPOWER_USERNAME: USER,
  OPOWER_PASSWORD: PASSWORD,
  OPOWER_BASE_URL: portal.url,
  OPOWER_LOGIN_BASE_URL: siteUrl,
  HOMEFLUX_STATE_KEY: KEY,
  ...extra,
});

async function run(home: Home, siteUrl: string, extra: Record<string, string> = {}): Promise<Awaited<ReturnType<typeof runCaptured>> & { files: string }> {
  const result = await runCaptured(opower, ['--since', '2026-03-28', '--until', '2026-03-29'], envFor(home, siteUrl, extra), { now: NOW });
  return { ...result, files: [...(await readTree(home.dir)).values()].join('\n') };
}

/** `--login` as a person runs it: a child process; questions on stderr, answers typed on stdin. */
async function loginProcess(env: Record<string, string>, answer: (prompt: string) => string | undefined): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/opower.ts', '--login'], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let answered = 0;
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
    // Answer each question once it has been asked in full (a question ends with ": " or "] ").
    const questions = stderr.split(/(?<=[:\]] )/).filter((part) => /[:\]] $/.test(part));
    while (answered < questions.length) {
      const reply = answer(questions[answered]!);
      answered++;
      if (reply === undefined) child.stdin.end();
      else child.stdin.write(`${reply}\n`);
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const noSecrets = (text: string, s: ExelonSite): void => {
  for (const secret of [PASSWORD, KEY, ...s.issued, ...s.sentCodes.map((c) => c.code), ...portal.sessionCookies]) expect(text).not.toContain(secret);
};

describe('Exelon group: --login once, then scheduled runs from the sealed session', () => {
  it('--login with the code typed on standard input, then a run with the stored session alone', async () => {
    const home = await tempHome('exelon');
    site.steps.length = 0;
    const login = await loginProcess(envFor(home, site.url), (prompt) => (prompt.startsWith('Type the code sent to r*******@example.com') ? site.sentCodes.at(-1)!.code : undefined));
    expect(login.code, login.stdout + login.stderr).toBe(0);
    expect(login.stdout).toMatch(/signed in to Baltimore Gas and Electric \(BGE\); the session is kept, sealed, in .*opower-bge-session\.sealed/);
    // E-mail-only MFA: no channel question, one code.
    expect(site.steps).toEqual(['login page', 'app sign-in page', 'password', 'confirmed mfa', 'send Email', 'verify', 'code page', 'confirmed done', 'token', 'accounts', 'Opower token']);
    const file = path.join(home.env.HOMEFLUX_DATA_DIR, 'opower-bge-session.sealed');
    const sealed = await readFile(file, 'utf8');
    // Only ciphertext: no refresh token, no account number; a wrong key cannot open it.
    noSecrets(sealed, site);
    expect(sealed).not.toContain('5500123456');
    expect(() => unseal(sealed, 'another-key-0123456789abcdef', file)).toThrow(/cannot be opened with HOMEFLUX_STATE_KEY/);
    const kept = unseal(sealed, KEY, file) as { refreshToken: string };
    expect(site.issued).toContain(kept.refreshToken);

    // The scheduled run: no one at the terminal, the kept session refreshed and sealed anew.
    site.steps.length = 0;
    const scheduled = await run(home, site.url);
    expect(scheduled.code, scheduled.all).toBe(0);
    expect(site.steps).toEqual(['refresh', 'Opower token']);
    const hours = await points(home.env.HOMEFLUX_DATA_DIR, 'hour', 'power');
    expect(hours).toHaveLength(7 * 24);
    for (const h of hours) expect(Number(h.fields.power_usage)).toBeCloseTo(portal.hourValue(FAKE_ACCOUNT.uuid, h.time) * 1000, 6);
    const resealed = unseal(await readFile(file, 'utf8'), KEY, file) as { refreshToken: string };
    expect(resealed.refreshToken).not.toBe(kept.refreshToken);
    noSecrets(login.stdout + login.stderr + scheduled.all + scheduled.files, site);
    // And a second scheduled run from the re-sealed session.
    expect((await run(home, site.url)).code).toBe(0);
  });

  it('a choice of e-mail or text: the text channel, asked and answered on stdin', async () => {
    const home = await tempHome('exelon-text');
    choice.steps.length = 0;
    const prompts: string[] = [];
    const login = await loginProcess(envFor(home, choice.url), (prompt) => {
      prompts.push(prompt);
      if (prompt.startsWith('Send the one-time code by')) return '2';
      return choice.sentCodes.at(-1)!.code;
    });
    expect(login.code, login.stderr).toBe(0);
    expect(prompts[0]).toBe('Send the one-time code by (1) e-mail to r*******@example.com or (2) text to XXX-XXX-0123? [1/2] ');
    expect(prompts[1]).toBe('Type the code sent to XXX-XXX-0123: ');
    expect(choice.sentCodes.at(-1)!.channel).toBe('Text');
    expect(choice.steps).toContain('choose');
    expect((await run(home, choice.url)).code).toBe(0);
  });

  it('an MFA challenge in a scheduled run, an expired session, a wrong code, a wrong password, a locked account: one line each', async () => {
    const lineOf = (all: string): string[] => all.split('\n').filter((l) => l.includes('sign-in to Baltimore Gas and Electric (BGE) (bge)'));
    // No kept session: the run reaches the code page and says what to do.
    const fresh = await tempHome('exelon-none');
    const challenge = await run(fresh, site.url);
    expect(challenge.code).toBe(1);
    expect(lineOf(challenge.all)).toEqual([expect.stringMatching(/asks for a one-time code sent by e-mail or text \(MFA\), which a scheduled run cannot type — run `npx tsx scripts\/opower\.ts --login` once at a terminal/)]);
    // A kept session the identity provider no longer honours.
    const home = await tempHome('exelon-expired');
    expect(await typeAtLogin(site, envFor(home, site.url))).toBe(0);
    site.expireSessions();
    const expired = await run(home, site.url);
    expect(expired.code).toBe(1);
    expect(lineOf(expired.all)).toEqual([expect.stringMatching(/the kept session can no longer be refreshed \(invalid_grant\) — run `npx tsx scripts\/opower\.ts --login` again at a terminal/)]);
    // A wrong code typed at --login.
    const wrongCode = await loginProcess(envFor(await tempHome('exelon-code'), site.url), () => '000000');
    expect(wrongCode.code).toBe(1);
    expect(wrongCode.stdout + wrongCode.stderr).toMatch(/sign-in to Baltimore Gas and Electric \(BGE\) \(bge\) refused the one-time code: "The verification code you have entered does not match our records/);
    // Standard input closed before the code: exit 2, said plainly.
    const closed = await loginProcess(envFor(await tempHome('exelon-eof'), site.url), () => undefined);
    expect(closed.code).toBe(2);
    expect(closed.stdout + closed.stderr).toMatch(/standard input ended before the answer was typed/);
    // A wrong password and a locked account, at the password step, with B2C's own words.
    const wrong = await run(await tempHome('exelon-pw'), site.url, { OPOWER_PASSWORD: 'sntl-wrong-exelon-9Qp' });
    expect(lineOf(wrong.all)).toEqual([expect.stringMatching(/was refused at the password step: "Your password is incorrect\."/)]);
    expect(wrong.all).not.toContain('sntl-wrong-exelon-9Qp');
    const lock = await run(await tempHome('exelon-lock'), locked.url);
    expect(lineOf(lock.all)).toEqual([expect.stringMatching(/was refused at the password step: "Your account is temporarily locked/)]);
    for (const r of [challenge, expired, wrong, lock]) noSecrets(r.all + r.files, site);
    noSecrets(wrongCode.stdout + wrongCode.stderr + closed.stdout + closed.stderr, site);
  });

  it('--login without HOMEFLUX_STATE_KEY exits 2; a session file sealed with another key is one clear line', async () => {
    const home = await tempHome('exelon-key');
    const noKey = await loginProcess(envFor(home, site.url, { HOMEFLUX_STATE_KEY: '' }), () => undefined);
    expect(noKey.code).toBe(2);
    expect(noKey.stdout + noKey.stderr).toMatch(/HOMEFLUX_STATE_KEY is not set/);
    const file = path.join(home.env.HOMEFLUX_DATA_DIR, 'opower-bge-session.sealed');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, seal({ refreshToken: 'r-other', tenantUrl: `${site.url}/euazurebge.onmicrosoft.com/B2C_1A_SignIn_Mobile`, account: { accountNumber: '1', isResidential: true, state: 'MD' } }, 'a-different-key-0123456789'));
    const wrongKey = await run(home, site.url);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.all).toMatch(/opower-bge-session\.sealed cannot be opened with HOMEFLUX_STATE_KEY: the key is not the one it was sealed with, or the file was changed — check HOMEFLUX_STATE_KEY, or run `npx tsx scripts\/opower\.ts --login` again/);
    expect(wrongKey.all).not.toContain(KEY);
  });

  it('Pepco and Delmarva: residential Maryland accounts read one portal, the others the second', async () => {
    const pepPortal = await startOpowerPortal({ code: 'pepd', timezone: 'America/New_York', now: NOW, meteredUntil: NOW });
    const business = await startExelonSite({ portal: pepPortal, username: USER, password: PASSWORD, tenantName: 'euazurepepco', clientId: PEPCO.signin!.clientId!, mobileId: PEPCO.signin!.mobileId!, mfa: 'email-only', account: { accountNumber: '5500777777', isResidential: false, state: 'DC' } });
    try {
      const home = await tempHome('pepco');
      const env = { ...envFor(home, business.url), OPOWER_UTILITY: 'pepco', OPOWER_BASE_URL: pepPortal.url };
      expect(await typeAtLogin(business, env)).toBe(0);
      const result = await runCaptured(opower, ['--since', '2026-03-28', '--until', '2026-03-29'], env, { now: NOW });
      expect(result.code, result.all).toBe(0);
      const paths = pepPortal.requests.map((q) => q.path).filter((p) => p.includes('/utilities/') || p.includes('/multi-account-v1/'));
      expect(paths.length).toBeGreaterThan(0);
      for (const p of paths) expect(p).toMatch(/\/cws\/(utilities\/)?pepd\//);
    } finally {
      await Promise.all([pepPortal.stop(), business.stop()]);
    }
  });
});
