/**
 * What the two B2C fakes (Exelon, National Grid) share: B2C's page with its `var SETTINGS = {…};`
 * script, transactions with their CSRF token, PKCE checks, authorization codes and tokens.
 *
 * Facts (tronikos/opower `exelon.py`, `oidchelper.py`, which read real B2C pages): SETTINGS holds
 * `csrf`, `transId`, `api`, `pageViewId`, `hosts.{tenant, policy}`; form posts carry `tx` and `p`
 * in the query and `X-CSRF-TOKEN`; they answer `{"status":"200"}` or another status with a
 * `message`. PKCE S256 is RFC 7636 §4.6; token errors are RFC 6749 §5.2 (`invalid_grant`).
 * Assumed: the `StateProperties=` form of transaction ids, the `x-ms-cpim-*` cookies and that a
 * post whose CSRF token (header or query) differs from the cookie's is answered 403, and the
 * wording of B2C's messages.
 */
import { createHash, randomBytes } from 'node:crypto';

/** One sign-in in progress. */
export interface Transaction {
  id: string;
  csrf: string;
  policy: string;
  tenant: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
  stage: string;
  /** Free room for the family's state (chosen MFA channel, the code sent). */
  data: Record<string, string>;
}

/** Transactions, codes and tokens of one fake identity provider. */
export class B2cState {
  readonly transactions = new Map<string, Transaction>();
  readonly codes = new Map<string, { clientId: string; challenge: string; redirectUri: string }>();
  readonly accessTokens = new Set<string>();
  readonly refreshTokens = new Set<string>();
  /** Every token and code issued, for "no secret in any output" checks. */
  readonly issued: string[] = [];

  /** Start a transaction for an authorize request. */
  begin(fields: Omit<Transaction, 'id' | 'csrf' | 'stage' | 'data'>): Transaction {
    const tx: Transaction = { ...fields, id: `StateProperties=${randomBytes(24).toString('base64url')}`, csrf: randomBytes(24).toString('base64url'), stage: 'start', data: {} };
    this.transactions.set(tx.id, tx);
    return tx;
  }

  /**
   * The transaction a form post or confirmed request names, when its CSRF token matches — in the
   * header or query as sent, and in the `x-ms-cpim-csrf` cookie the page set (double submit).
   */
  find(tx: string | null | undefined, csrf: string | null | undefined, cookie: string | undefined): Transaction | undefined {
    const found = this.transactions.get(tx ?? '');
    return found !== undefined && found.csrf === csrf && cookie === csrf ? found : undefined;
  }

  /** A fresh token of `kind`, remembered. */
  mint(kind: 'code' | 'access' | 'refresh'): string {
    const token = `${kind === 'code' ? 'c' : kind === 'access' ? 'eyJ' : 'r'}${randomBytes(30).toString('base64url')}`;
    this.issued.push(token);
    if (kind === 'access') this.accessTokens.add(token);
    if (kind === 'refresh') this.refreshTokens.add(token);
    return token;
  }

  /** An authorization code for a finished transaction. */
  codeFor(tx: Transaction): string {
    const code = this.mint('code');
    this.codes.set(code, { clientId: tx.clientId, challenge: tx.challenge, redirectUri: tx.redirectUri });
    this.transactions.delete(tx.id);
    return code;
  }

  /** Redeem a code: undefined when the code, client, redirect or PKCE verifier is wrong. */
  redeem(code: string | undefined, clientId: string | undefined, redirectUri: string | undefined, verifier: string | undefined): boolean {
    const held = this.codes.get(code ?? '');
    if (held === undefined) return false;
    this.codes.delete(code!);
    const s256 = createHash('sha256').update(verifier ?? '').digest('base64url');
    return held.clientId === clientId && held.redirectUri === redirectUri && held.challenge === s256;
  }
}

/** B2C's sign-in page: SETTINGS (and SA_FIELDS when given) in a script, as the real pages have. */
export function b2cPage(tx: Transaction, api: string, saFields?: unknown): string {
  const settings = { remoteResource: 'https://example.invalid/signin.html', csrf: tx.csrf, transId: tx.id, api, pageViewId: randomBytes(8).toString('hex'), hosts: { tenant: tx.tenant, policy: tx.policy, static: 'https://example.invalid/' }, locale: { lang: 'en' }, config: { enforceRedirect: 'false' } };
  const fields = saFields === undefined ? '' : `\nvar SA_FIELDS = ${JSON.stringify(saFields)};`;
  return `<!DOCTYPE html><html><head><title>Sign in</title>
<script data-container="true" nonce="n0nce">
var SETTINGS = ${JSON.stringify(settings)};${fields}
</script></head><body><div id="api"></div></body></html>`;
}

/** The cookies a B2C page sets with its transaction (names as B2C uses them; assumed from its pages). */
export function b2cCookies(tx: Transaction): Record<string, string[]> {
  // Without `Secure`: the fakes speak plain HTTP on loopback, where a secure cookie is not kept.
  return { 'set-cookie': [`x-ms-cpim-csrf=${tx.csrf}; Path=/; HttpOnly`, `x-ms-cpim-trans=${Buffer.from(tx.id).toString('base64url')}; Path=/; HttpOnly`] };
}

/** `invalid_grant` as B2C's token endpoint answers it (RFC 6749 §5.2; the description assumed). */
export const INVALID_GRANT = { error: 'invalid_grant', error_description: 'AADB2C90080: The provided grant has expired. Please re-authenticate and try again.' };
