/**
 * Errors of the NUT client, named by what the caller should do (DESIGN.md "Agents").
 *
 * upsd answers a failed command with `ERR <TOKEN> [detail]`. Every error here carries that
 * token (or none for socket trouble) so callers can branch on it, and its class says what to do:
 *
 * | class | tokens | meaning |
 * |---|---|---|
 * | {@link NutAuthError} (an AuthError) | ACCESS-DENIED, INVALID-PASSWORD, INVALID-USERNAME, USERNAME-REQUIRED, PASSWORD-REQUIRED | credentials or permissions: don't retry |
 * | {@link NutTransientError} (a TransientError) | DATA-STALE, DRIVER-NOT-CONNECTED, and connection failures / timeouts (no token) | the UPS or network may recover: try again at the next sample |
 * | {@link NutError} | everything else (UNKNOWN-UPS, VAR-NOT-SUPPORTED, INVALID-ARGUMENT, …) | a configuration or protocol problem |
 */
import { AuthError, TransientError } from '../../errors.ts';

/** Tokens that mean "your credentials or permissions are wrong". */
export const AUTH_TOKENS: ReadonlySet<string> = new Set(['ACCESS-DENIED', 'INVALID-PASSWORD', 'INVALID-USERNAME', 'USERNAME-REQUIRED', 'PASSWORD-REQUIRED']);

/** Tokens that mean "the UPS data is not available right now". */
export const TRANSIENT_TOKENS: ReadonlySet<string> = new Set(['DATA-STALE', 'DRIVER-NOT-CONNECTED']);

// What each token means for a person reading the log; upsd itself sends only the token.
const EXPLANATIONS: Readonly<Record<string, string>> = {
  'ACCESS-DENIED': 'upsd refused access: wrong NUT_USERNAME/NUT_PASSWORD, a user without "upsmon secondary" in upsd.users, or a client address upsd does not allow',
  'INVALID-PASSWORD': 'upsd refused the password (NUT_PASSWORD)',
  'INVALID-USERNAME': 'upsd refused the user name (NUT_USERNAME)',
  'USERNAME-REQUIRED': 'upsd requires a user name: set NUT_USERNAME and NUT_PASSWORD',
  'PASSWORD-REQUIRED': 'upsd requires a password: set NUT_PASSWORD',
  'DATA-STALE': 'upsd has no fresh data from the UPS driver (the UPS may be unplugged or its driver hung)',
  'DRIVER-NOT-CONNECTED': 'upsd is not connected to the UPS driver (is the driver running? try "upsdrvctl start")',
  'UNKNOWN-UPS': 'upsd has no UPS by that name',
  'VAR-NOT-SUPPORTED': 'the UPS does not report that variable',
  'FEATURE-NOT-CONFIGURED': 'the feature is not configured on upsd',
  'INVALID-ARGUMENT': 'upsd did not understand an argument',
  'UNKNOWN-COMMAND': 'upsd does not know the command',
};

/** Where an error happened, for the message. */
export interface NutErrorContext {
  /** `host:port` of upsd. */
  server: string;
  /** The command as sent, with any password replaced by `***`. */
  command?: string;
  /** upsd's extra words after the token, if any. */
  detail?: string;
}

function describe(token: string | undefined, message: string, context: NutErrorContext): string {
  const what = context.command ? `${context.command}: ` : '';
  const reply = token ? ` (ERR ${token}${context.detail ? ` ${context.detail}` : ''})` : '';
  return `upsd ${context.server}: ${what}${message}${reply}`;
}

/** A NUT failure that is neither about credentials nor expected to pass (e.g. UNKNOWN-UPS). */
export class NutError extends Error {
  override name = 'NutError';
  constructor(
    message: string,
    /** upsd's error token, e.g. `UNKNOWN-UPS`. */
    readonly token: string | undefined,
    readonly context: NutErrorContext,
  ) {
    super(describe(token, message, context));
  }
}

/** upsd refused our credentials or permissions: stop, don't retry. */
export class NutAuthError extends AuthError {
  override name = 'NutAuthError';
  constructor(
    message: string,
    readonly token: string,
    readonly context: NutErrorContext,
  ) {
    super(describe(token, message, context));
  }
}

/** Stale or missing UPS data, or a network failure: the next sample may succeed. */
export class NutTransientError extends TransientError {
  override name = 'NutTransientError';
  constructor(
    message: string,
    /** upsd's token, or undefined for connection failures and timeouts. */
    readonly token: string | undefined,
    readonly context: NutErrorContext & { cause?: unknown },
  ) {
    super(describe(token, message, context), { cause: context.cause });
  }
}

/** Any error thrown by the NUT client. */
export type AnyNutError = NutError | NutAuthError | NutTransientError;

/** True for every error class of this module. */
export function isNutError(error: unknown): error is AnyNutError {
  return error instanceof NutError || error instanceof NutAuthError || error instanceof NutTransientError;
}

/** The error class for an `ERR <token>` reply. */
export function errorForToken(token: string, context: NutErrorContext): AnyNutError {
  // Own keys only: `ERR constructor` must not explain itself with Object's source text (found by fuzzing).
  const explanation = (Object.hasOwn(EXPLANATIONS, token) ? EXPLANATIONS[token] : undefined) ?? 'upsd refused the command';
  if (AUTH_TOKENS.has(token)) return new NutAuthError(explanation, token, context);
  if (TRANSIENT_TOKENS.has(token)) return new NutTransientError(explanation, token, context);
  return new NutError(explanation, token, context);
}
