/**
 * A fake of Portland General Electric's sign-in: AWS Cognito's InitiateAuth (USER_PASSWORD_AUTH)
 * and PGE's token exchange, on one origin, feeding the fake Opower portal behind it. The target
 * header, content type, fields, client ids and error `__type`s are those the public Opower client
 * handles (tronikos/opower `portlandgeneral.py`); Cognito's messages ("Incorrect username or
 * password.", "Password attempts exceeded") are AWS's documented NotAuthorizedException texts.
 * Assumed: the IdToken's form, the exchange's answer beyond `access_token`, and a challenge
 * answer shaped as Cognito's (`ChallengeName`, `Session`).
 */
import { randomBytes } from 'node:crypto';
import type { OpowerPortal } from './opower-portal.ts';
import { startSiteServer, type SiteServer } from './site-server.ts';

/** Options of the fake. */
export interface PortlandGeneralSiteOptions {
  portal: OpowerPortal;
  username: string;
  password: string;
  /** Too many wrong passwords: Cognito refuses with "Password attempts exceeded". */
  locked?: boolean;
  /** The account asks for an SMS code: InitiateAuth answers a challenge, no tokens. */
  smsMfa?: boolean;
}

/** A running fake. */
export interface PortlandGeneralSite extends SiteServer {
  steps: string[];
  issued: string[];
}

/** Start the fake on a free loopback port. */
export async function startPortlandGeneralSite(options: PortlandGeneralSiteOptions): Promise<PortlandGeneralSite> {
  const steps: string[] = [];
  const idTokens = new Set<string>();
  const issued: string[] = [];
  const amz = { 'content-type': 'application/x-amz-json-1.1' };
  const server = await startSiteServer((req, res) => {
    if (req.method === 'POST' && req.url.pathname === '/') {
      steps.push('InitiateAuth');
      if (req.headers['x-amz-target'] !== 'AWSCognitoIdentityProviderService.InitiateAuth' || req.body.AuthFlow !== 'USER_PASSWORD_AUTH' || req.body.ClientId !== '4q9nbgmi0gcks5t7d6fkhubfnm') return res.json(400, { __type: 'InvalidParameterException', message: 'bad request' }, amz);
      const params = req.body.AuthParameters as unknown as { USERNAME?: string; PASSWORD?: string };
      if (options.locked) return res.json(400, { __type: 'NotAuthorizedException', message: 'Password attempts exceeded' }, amz);
      if (params.USERNAME !== options.username || params.PASSWORD !== options.password) return res.json(400, { __type: 'NotAuthorizedException', message: 'Incorrect username or password.' }, amz);
      if (options.smsMfa) return res.json(200, { ChallengeName: 'SMS_MFA', Session: randomBytes(24).toString('base64url'), ChallengeParameters: { CODE_DELIVERY_DESTINATION: '+*******0123' } }, amz);
      const idToken = `eyJ${randomBytes(40).toString('base64url')}`;
      idTokens.add(idToken);
      issued.push(idToken);
      return res.json(200, { AuthenticationResult: { IdToken: idToken, AccessToken: `eyJ${randomBytes(20).toString('base64url')}`, ExpiresIn: 3600, TokenType: 'Bearer' }, ChallengeParameters: {} }, amz);
    }
    if (req.method === 'POST' && req.url.pathname === '/pg-token-implicit-aws/token') {
      steps.push('token exchange');
      if (req.url.searchParams.get('client_id') !== 'rHuS10KrfsLwFAr2sZ7MHh7oHELGx6YK') return res.json(401, { errorResponse: { code: 'invalid_client' } });
      if (!idTokens.has(String(req.headers.idp_access_token ?? ''))) return res.json(401, { errorResponse: { code: 'invalid_token' } });
      return res.json(200, { access_token: options.portal.issueBearer(), token_type: 'Bearer', expires_in: '1799' });
    }
    return res.json(404, { message: 'not found' });
  });
  return { ...server, steps, issued };
}
