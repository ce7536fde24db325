import { createHmac } from 'node:crypto';

const b64 = (v: object | string) =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Hand-made JWTs for hostile-token tests: any algorithm header, any secret, or none; any key id. */
export function forgeJwt(
  payload: object,
  opts: { alg?: string; secret?: string; kid?: string } = {},
): string {
  const alg = opts.alg ?? 'HS256';
  const header = opts.kid === undefined ? { alg, typ: 'JWT' } : { alg, typ: 'JWT', kid: opts.kid };
  const head = `${b64(header)}.${b64(payload)}`;
  if (alg === 'none') return `${head}.`;
  const sig = createHmac('sha256', opts.secret ?? 'some-other-secret-that-is-long-enough-123')
    .update(head)
    .digest('base64url');
  return `${head}.${sig}`;
}
