import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { Actor } from '../actor';
import { AuthService } from '../auth.service';
import { AccessTokenKeys } from '../tokens/access-keys';
import type { AccessClaims } from '../tokens/token.service';

export const ACCESS_COOKIE = 'access_token';
export const REFRESH_COOKIE = 'refresh_token';

const fromCookie = (req: Request): string | null => {
  const cookies = req.cookies as Record<string, string> | undefined;
  return cookies?.[ACCESS_COOKIE] ?? null;
};

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    keys: AccessTokenKeys,
    private readonly auth: AuthService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromExtractors([ExtractJwt.fromAuthHeaderAsBearerToken(), fromCookie]),
      // The key the token's `kid` names (the current one, or the previous one during a rotation); an
      // unknown key id fails as an invalid token (401). A KeyObject, not the string: given a string,
      // jsonwebtoken first tries createPublicKey() on it and catches the throw, on every request
      // (~14 % of a booking's CPU in bench/README.md). The typings only say string | Buffer.
      secretOrKeyProvider: (
        _req: Request,
        rawJwtToken: string,
        done: (err: Error | null, key?: Buffer) => void,
      ) => {
        const key = keys.keyFor(rawJwtToken);
        if (key) done(null, key as unknown as Buffer);
        else done(new Error('unknown key id'));
      },
      // Pinning the algorithm is what refuses `alg: none` and key-confusion tokens.
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  validate(claims: AccessClaims): Promise<Actor> {
    return this.auth.authenticate(claims);
  }
}
