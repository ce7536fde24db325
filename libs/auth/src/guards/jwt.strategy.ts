import { Inject, Injectable } from '@nestjs/common';
import { createSecretKey } from 'node:crypto';
import { PassportStrategy } from '@nestjs/passport';
import { APP_CONFIG, AppConfig } from '@trektribe/common';
import type { Request } from 'express';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { Actor } from '../actor';
import { AuthService } from '../auth.service';
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
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly auth: AuthService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromExtractors([ExtractJwt.fromAuthHeaderAsBearerToken(), fromCookie]),
      // A KeyObject, not the string: given a string, jsonwebtoken first tries createPublicKey() on it and
      // catches the throw, on every request (~14 % of a booking's CPU in bench/README.md). The typings
      // only say string | Buffer; jsonwebtoken takes a KeyObject as is.
      secretOrKey: createSecretKey(Buffer.from(config.jwt.accessSecret, 'utf8')) as unknown as Buffer,
      // Pinning the algorithm is what refuses `alg: none` and key-confusion tokens.
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  validate(claims: AccessClaims): Promise<Actor> {
    return this.auth.authenticate(claims);
  }
}
