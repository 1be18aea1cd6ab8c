/**
 * Portland General Electric's sign-in: AWS Cognito's user-password authentication, then PGE's
 * own token exchange for the Opower bearer. Endpoint, region, client ids and fields are those
 * the public Opower client uses (tronikos/opower `portlandgeneral.py`, which learned them from
 * portlandgeneral.com's web app), written here from those facts:
 *
 * 1. `POST https://cognito-idp.us-west-2.amazonaws.com/` with `X-Amz-Target:
 *    AWSCognitoIdentityProviderService.InitiateAuth`, `Content-Type: application/x-amz-json-1.1`,
 *    `{"AuthFlow":"USER_PASSWORD_AUTH","ClientId","AuthParameters":{"USERNAME","PASSWORD"}}` →
 *    `AuthenticationResult.IdToken`; a 400 whose `__type` is `NotAuthorizedException`,
 *    `UserNotFoundException`, `PasswordResetRequiredException` or `UserNotConfirmedException`
 *    means the credentials (its `message` says how); a 200 with `ChallengeName` (an MFA step,
 *    a new password) is a step this sign-in cannot take.
 * 2. `POST https://apix.portlandgeneral.com/pg-token-implicit-aws/token?client_id=…&response_type=token&redirect_uri=`
 *    with the header `idp_access_token: <IdToken>` → `access_token`.
 */
import { AuthError, excerpt } from '../../../errors.ts';
import type { LoginResult, LoginStrategy } from '../utilities.ts';
import { hostOf, looseObject, signinStep, stepWhere } from './steps.ts';

const COGNITO = 'https://cognito-idp.us-west-2.amazonaws.com';
const COGNITO_CLIENT_ID = '4q9nbgmi0gcks5t7d6fkhubfnm';
const APIX = 'https://apix.portlandgeneral.com';
const APIGEE_CLIENT_ID = 'rHuS10KrfsLwFAr2sZ7MHh7oHELGx6YK';
/** Cognito's answers that mean the credentials, not an outage (the client's list). */
const REFUSALS = new Set(['NotAuthorizedException', 'UserNotFoundException', 'PasswordResetRequiredException', 'UserNotConfirmedException']);

/** Portland General Electric. */
export const portlandGeneralSignin: LoginStrategy = {
  kind: 'pge-cognito',
  async login(context): Promise<LoginResult> {
    const who = `sign-in to ${context.utility.name} (${context.utility.id})`;
    const cognito = hostOf(context, COGNITO);
    const answer = await signinStep(context, {
      name: 'password',
      url: `${cognito}/`,
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth', origin: 'https://portlandgeneral.com', referer: 'https://portlandgeneral.com/', accept: '*/*' },
      json: { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: COGNITO_CLIENT_ID, AuthParameters: { USERNAME: context.username, PASSWORD: context.password } },
      accept: [400],
    });
    const result = looseObject(answer.text);
    const type = typeof result.__type === 'string' ? result.__type.split('#').pop()! : '';
    if (answer.status === 400) {
      if (REFUSALS.has(type)) throw new AuthError(`${who} was refused at the password step: ${type}${typeof result.message === 'string' ? ` ("${excerpt(result.message, 120)}")` : ''}; check OPOWER_USERNAME and OPOWER_PASSWORD`);
      throw new AuthError(`${stepWhere(context, 'password')} failed: HTTP 400 ${type || excerpt(answer.text, 80)}`);
    }
    const idToken = (result.AuthenticationResult as { IdToken?: unknown } | undefined)?.IdToken;
    if (typeof idToken !== 'string' || idToken === '') {
      const challenge = typeof result.ChallengeName === 'string' ? result.ChallengeName : 'no token';
      throw new AuthError(`${who}: the password was accepted, but the identity provider asks for another step (${excerpt(challenge, 40)}) that homeflux cannot take — finish it once on portlandgeneral.com`);
    }
    const exchange = await signinStep(context, {
      name: 'token exchange',
      url: `${hostOf(context, APIX)}/pg-token-implicit-aws/token?${new URLSearchParams({ client_id: APIGEE_CLIENT_ID, response_type: 'token', redirect_uri: '' }).toString()}`,
      method: 'POST',
      headers: { idp_access_token: idToken, accept: 'application/json' },
      accept: [400, 401, 403],
    });
    const exchanged = looseObject(exchange.text);
    if (exchange.status !== 200) {
      throw new AuthError(`${stepWhere(context, 'token exchange')} failed: HTTP ${exchange.status}${'errorResponse' in exchanged ? ' — PGE refused the exchange (the client id homeflux sends may be out of date)' : ''}`, exchange.status);
    }
    const token = exchanged.access_token;
    if (typeof token !== 'string' || token === '') throw new AuthError(`${stepWhere(context, 'token exchange')}: the answer has no access_token`);
    return { headers: { authorization: `Bearer ${token}` }, secrets: [token, idToken] };
  },
};
