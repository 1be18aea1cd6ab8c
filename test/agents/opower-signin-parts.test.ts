/**
 * Building blocks of the big utilities' sign-ins (issue "the big utilities — with MFA"): TOTP
 * codes checked against the published test vectors of RFC 4226 (Appendix D), RFC 6238
 * (Appendix B) and RFC 4648 (§10), and sealed state files (what `--login` will keep).
 */
import { describe, expect, it } from 'vitest';
import { aepLoginForm, aepRefusal } from '../../src/agents/opower/signin/aep.ts';
import { pkceChallenge, pkcePair, scriptObject } from '../../src/agents/opower/signin/b2c.ts';
import { base32Decode, hotp, totp } from '../../src/agents/opower/signin/totp.ts';
import { seal, unseal } from '../../src/state-crypto.ts';

describe('TOTP', () => {
  it('base32 as RFC 4648 §10 encodes "foobar"', () => {
    const cases: Array<[string, string]> = [['', ''], ['MY======', 'f'], ['MZXQ====', 'fo'], ['MZXW6===', 'foo'], ['MZXW6YQ=', 'foob'], ['MZXW6YTB', 'fooba'], ['MZXW6YTBOI======', 'foobar']];
    for (const [encoded, plain] of cases) expect(base32Decode(encoded).toString('ascii')).toBe(plain);
    // As apps show secrets: lower case, in groups, without padding.
    expect(base32Decode('mzxw 6ytb oi').toString('ascii')).toBe('foobar');
    expect(() => base32Decode('MZXW1')).toThrow('not base32 at position 5 (expected A–Z and 2–7)');
  });

  it('HOTP: RFC 4226 Appendix D, counters 0–9', () => {
    const key = Buffer.from('12345678901234567890', 'ascii');
    expect(Array.from({ length: 10 }, (_, c) => hotp(key, c))).toEqual(['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489']);
  });

  it('TOTP: RFC 6238 Appendix B, 8 digits, SHA-1, SHA-256 and SHA-512', () => {
    const times = [59, 1111111109, 1111111111, 1234567890, 2000000000, 20000000000];
    const seeds = {
      sha1: '12345678901234567890',
      sha256: '12345678901234567890123456789012',
      sha512: '1234567890123456789012345678901234567890123456789012345678901234',
    } as const;
    const expected = {
      sha1: ['94287082', '07081804', '14050471', '89005924', '69279037', '65353130'],
      sha256: ['46119246', '68084774', '67062674', '91819424', '90698825', '77737706'],
      sha512: ['90693936', '25091201', '99943326', '93441116', '38618901', '47863826'],
    };
    for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
      expect(times.map((t) => totp(Buffer.from(seeds[algorithm], 'ascii'), t, { digits: 8, algorithm })), algorithm).toEqual(expected[algorithm]);
    }
    // The 6-digit code apps show is the last six digits of the same truncation.
    expect(totp(Buffer.from(seeds.sha1, 'ascii'), 59)).toBe('287082');
  });
});

describe('sealed state files', () => {
  const key = 'a-repository-secret-of-32-chars!';
  const state = { refreshToken: 'rt-0123456789abcdef', device: 'remembered-device-id', expires: 1796000000 };

  it('round-trips, and the file holds none of the state in clear', () => {
    const text = seal(state, key);
    expect(unseal(text, key, 'opower-session.json')).toEqual(state);
    for (const secret of [state.refreshToken, state.device, key]) expect(text).not.toContain(secret);
    // A fresh salt and IV each time: the same state seals differently.
    expect(seal(state, key)).not.toBe(text);
  });

  it('a wrong key, a changed file, or not a sealed file: one clear line, no key', () => {
    const text = seal(state, key);
    expect(() => unseal(text, 'another-secret-of-32-characters!', 'opower-session.json')).toThrow('opower-session.json cannot be opened with HOMEFLUX_STATE_KEY: the key is not the one it was sealed with, or the file was changed');
    const file = JSON.parse(text) as { data: string };
    const bytes = Buffer.from(file.data, 'base64');
    bytes[0] = bytes[0]! ^ 1;
    expect(() => unseal(JSON.stringify({ ...file, data: bytes.toString('base64') }), key, 'x.json')).toThrow(/x\.json cannot be opened with HOMEFLUX_STATE_KEY/);
    expect(() => unseal('{"refreshToken":"plain"}', key, 'y.json')).toThrow('y.json is not a sealed homeflux state file (version undefined)');
    expect(() => seal(state, 'short')).toThrow(/HOMEFLUX_STATE_KEY is too short/);
  });
});

describe('B2C and form sign-in parts', () => {
  it('PKCE S256 matches RFC 7636 Appendix B', () => {
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    const pair = pkcePair();
    expect(pair.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pkcePair().verifier).not.toBe(pair.verifier);
  });

  it('reads a page script object whose strings hold ; and }', () => {
    const html = `<script>var X = 1;\nvar SETTINGS = {"csrf":"a;b}c","transId":"StateProperties=e30","hosts":{"tenant":"/t.onmicrosoft.com/P","policy":"P"},"q":"say \\"}\\""};var SA_FIELDS = {"AttributeFields":[]};</script>`;
    expect(scriptObject(html, 'SETTINGS')).toEqual({ csrf: 'a;b}c', transId: 'StateProperties=e30', hosts: { tenant: '/t.onmicrosoft.com/P', policy: 'P' }, q: 'say "}"' });
    expect(scriptObject(html, 'SA_FIELDS')).toEqual({ AttributeFields: [] });
    expect(scriptObject(html, 'MISSING')).toBeUndefined();
    expect(scriptObject('var SETTINGS = {"open": ', 'SETTINGS')).toBeUndefined();
  });

  it('fills the AEP form by the UserID/Password name rule, keeps hidden fields, reads the error markup', async () => {
    const html = '<form><input type="hidden" name="__VIEWSTATE" value="vs=="/><input name="a$b$UserID"/><input name="a$b$Password" type="password"/><input type="submit" name="go" value="Log In"/></form>';
    expect(await aepLoginForm(html, 'me', 'pw')).toEqual({ fields: { __VIEWSTATE: 'vs==', a$b$UserID: 'me', a$b$Password: 'pw', go: 'Log In' }, hasPassword: true });
    expect((await aepLoginForm('<input name="q"/>', 'me', 'pw')).hasPassword).toBe(false);
    expect(await aepRefusal('<div class="box error"><h4>x</h4><p> Bad ID. </p></div>')).toBe('Bad ID.');
    expect(await aepRefusal('<div class="ok"><p>fine</p></div>')).toBeUndefined();
  });
});
