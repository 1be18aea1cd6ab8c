/**
 * Sealed state files: what a run keeps that must not be readable by whoever holds the file — an
 * Opower sign-in's refresh token or remembered device, carried in an Actions cache or a data
 * branch. Encrypted with AES-256-GCM under a key derived (scrypt, a fresh salt per file) from
 * `HOMEFLUX_STATE_KEY`, a repository secret; the tag authenticates the file, so a changed or
 * truncated file is refused like a wrong key.
 *
 * The file is JSON: `{"sealed": 1, "cipher": "aes-256-gcm", "kdf": "scrypt", "salt", "iv",
 * "tag", "data"}` (base64), readable as a format, not as content.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';

interface SealedFile {
  sealed: 1;
  cipher: 'aes-256-gcm';
  kdf: 'scrypt';
  salt: string;
  iv: string;
  tag: string;
  data: string;
}

/** The key was wrong or the file was changed; says which file and what to do, never the key. */
export class SealedStateError extends Error {
  override name = 'SealedStateError';
}

// scrypt's defaults (N = 16384, r = 8, p = 1): ~50 ms, once per run.
const deriveKey = (secret: string, salt: Buffer): Buffer => scryptSync(secret, salt, 32);

/** Encrypt `value` (any JSON) under `secret`; returns the file's text. */
export function seal(value: unknown, secret: string): string {
  if (secret.length < 16) throw new SealedStateError('HOMEFLUX_STATE_KEY is too short: use at least 16 characters (e.g. `openssl rand -base64 32`)');
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(secret, salt), iv);
  const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  const file: SealedFile = { sealed: 1, cipher: 'aes-256-gcm', kdf: 'scrypt', salt: salt.toString('base64'), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  return `${JSON.stringify(file)}\n`;
}

/** Decrypt a sealed file's text; `where` names it in errors. */
export function unseal(text: string, secret: string, where: string): unknown {
  let file: SealedFile;
  try {
    file = JSON.parse(text) as SealedFile;
  } catch {
    throw new SealedStateError(`${where} is not a sealed homeflux state file (not JSON)`);
  }
  if (file.sealed !== 1 || file.cipher !== 'aes-256-gcm' || file.kdf !== 'scrypt') throw new SealedStateError(`${where} is not a sealed homeflux state file (version ${String(file.sealed)})`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(secret, Buffer.from(file.salt, 'base64')), Buffer.from(file.iv, 'base64'));
    decipher.setAuthTag(Buffer.from(file.tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(file.data, 'base64')), decipher.final()]);
    return JSON.parse(plain.toString('utf8'));
  } catch {
    throw new SealedStateError(`${where} cannot be opened with HOMEFLUX_STATE_KEY: the key is not the one it was sealed with, or the file was changed`);
  }
}
