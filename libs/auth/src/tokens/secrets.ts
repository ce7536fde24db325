import { createHash, randomBytes } from 'node:crypto';

/** 256 bits of randomness, URL-safe: what we hand out as refresh and one-time tokens. */
export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Tokens are high-entropy, so a fast hash is enough; we only ever store this. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
