import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { APP_CONFIG, AppConfig } from '@trektribe/common';
import { createSecretKey, KeyObject } from 'node:crypto';
import type { AccessClaims } from './token.service';

interface AccessKey {
  kid: string;
  secret: string;
  /** The same secret as a KeyObject (jsonwebtoken otherwise tries createPublicKey() on a string first). */
  key: KeyObject;
}

/** The `kid` of a JWT's header; undefined when absent, null when the header cannot be read. */
export function kidOf(token: string): string | undefined | null {
  const dot = token.indexOf('.');
  if (dot <= 0) return null;
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as unknown;
    if (typeof header !== 'object' || header === null) return null;
    const kid = (header as { kid?: unknown }).kid;
    if (kid === undefined) return undefined;
    return typeof kid === 'string' ? kid : null;
  } catch {
    return null;
  }
}

/**
 * The access-token keys, by key id. Tokens are signed with the current key (JWT_ACCESS_SECRET) and
 * carry its id in their `kid` header; verification picks the key by that id, so during a rotation
 * tokens signed with the previous key (JWT_ACCESS_SECRET_PREVIOUS) stay valid until they expire or
 * the previous key is removed. A token naming an unknown key id is refused. A token without `kid`
 * (minted before key ids existed) is checked against the current key only.
 *
 * Every place that verifies access tokens goes through here: the HTTP guard's passport strategy and
 * the socket.io handshake.
 */
@Injectable()
export class AccessTokenKeys {
  private readonly current: AccessKey;
  private readonly byKid = new Map<string, AccessKey>();

  constructor(
    private readonly jwt: JwtService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const make = (kid: string, secret: string): AccessKey => ({
      kid,
      secret,
      key: createSecretKey(Buffer.from(secret, 'utf8')),
    });
    this.current = make(config.jwt.accessKid, config.jwt.accessSecret);
    this.byKid.set(this.current.kid, this.current);
    const previous = config.jwt.previousAccess;
    if (previous) this.byKid.set(previous.kid, make(previous.kid, previous.secret));
  }

  /** The key a token names, or undefined when it names none we hold (or its header is unreadable). */
  keyFor(token: string): KeyObject | undefined {
    return this.lookup(token)?.key;
  }

  sign(claims: AccessClaims & { iat: number; exp: number }): Promise<string> {
    return this.jwt.signAsync(claims, {
      secret: this.current.secret,
      algorithm: 'HS256',
      keyid: this.current.kid,
    });
  }

  /** The claims of a valid token; throws (a jsonwebtoken error) otherwise. HS256 only. */
  verify(token: string): Promise<AccessClaims> {
    const key = this.lookup(token);
    if (!key)
      return Promise.reject(Object.assign(new Error('unknown key id'), { name: 'JsonWebTokenError' }));
    return this.jwt.verifyAsync<AccessClaims>(token, { secret: key.secret, algorithms: ['HS256'] });
  }

  private lookup(token: string): AccessKey | undefined {
    const kid = kidOf(token);
    if (kid === null) return undefined;
    return kid === undefined ? this.current : this.byKid.get(kid);
  }
}
