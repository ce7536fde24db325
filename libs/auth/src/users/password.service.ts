import { Injectable } from '@nestjs/common';
import { argon2id, argon2Verify } from 'hash-wasm';
import { randomBytes } from 'node:crypto';

/** OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane. */
const PARAMS = { parallelism: 1, iterations: 2, memorySize: 19456, hashLength: 32 } as const;

@Injectable()
export class PasswordService {
  /** A fixed hash to verify against when the user does not exist, so timing does not reveal accounts. */
  private dummyHash: Promise<string> | undefined;

  hash(password: string): Promise<string> {
    return argon2id({ ...PARAMS, password, salt: randomBytes(16), outputType: 'encoded' });
  }

  async verify(hash: string | null | undefined, password: string): Promise<boolean> {
    if (!hash) {
      this.dummyHash ??= this.hash('not-a-real-password-1A');
      await argon2Verify({ password, hash: await this.dummyHash }).catch(() => false);
      return false;
    }
    return argon2Verify({ password, hash }).catch(() => false);
  }
}
