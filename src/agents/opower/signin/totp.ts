/**
 * Time-based one-time passwords (RFC 6238, on RFC 4226's HOTP) for utilities whose sign-in asks
 * for an authenticator-app code (ConEd and Orange & Rockland, PROTOCOL.md "Sign-in"): with the
 * shared secret in `OPOWER_TOTP_SECRET` every scheduled run can make its own code, unattended.
 *
 * The secret is the base32 text an authenticator app is given (RFC 4648 alphabet, case and
 * spaces ignored, padding optional), as utilities show it beside the QR code.
 */
import { createHmac } from 'node:crypto';

/** The algorithms RFC 6238 names. */
export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Decode RFC 4648 base32; throws naming the position (never the character) of the first that is not base32. */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase();
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (let i = 0; i < clean.length; i++) {
    const index = BASE32.indexOf(clean[i]!);
    // The position only: the text is a secret.
    if (index < 0) throw new Error(`not base32 at position ${i + 1} (expected A–Z and 2–7)`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** HOTP (RFC 4226 §5.3): the dynamically truncated HMAC of the 8-byte counter, `digits` long. */
export function hotp(key: Buffer, counter: number, digits = 6, algorithm: TotpAlgorithm = 'sha1'): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** TOTP (RFC 6238 §4): HOTP of the number of `period`-second steps since the Unix epoch at `time` (seconds). */
export function totp(key: Buffer, time: number, options: { digits?: number; period?: number; algorithm?: TotpAlgorithm } = {}): string {
  return hotp(key, Math.floor(time / (options.period ?? 30)), options.digits ?? 6, options.algorithm ?? 'sha1');
}
