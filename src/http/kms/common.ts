import type { KmsAuthorizer } from '../../auth/kms-access.js';
import type { KmsKey } from '../../core/ports/key-store.js';
import { kmsFail } from '../../core/services/kms/errors.js';
import type { KmsCrypto } from '../../core/services/kms/kms-crypto.js';
import type { KmsKeys } from '../../core/services/kms/keys.js';
import type { AwsCallContext, AwsInput, AwsOperation } from '../aws/context.js';

export interface KmsDeps {
  keys: KmsKeys;
  crypto: KmsCrypto;
  authorizer: KmsAuthorizer;
}

export const str = (v: unknown): string => (typeof v === 'string' ? v : '');
export const epoch = (d: Date): number => d.getTime() / 1000;
export const b64 = (v: unknown): Buffer => Buffer.from(str(v), 'base64');
export const ctxOf = (v: unknown): Record<string, string> | undefined => (v && typeof v === 'object' ? (v as Record<string, string>) : undefined);

/** Resolves a key reference as the caller sees it and authorizes `action` on it by the key policy rule. */
export async function authorizedKey(deps: KmsDeps, ref: string, action: `kms:${string}`, ctx: AwsCallContext): Promise<KmsKey> {
  const key = await deps.keys.resolve(ctx.principal.accountId, ref, ctx.signal);
  await deps.authorizer.authorize(ctx.principal, action, key, {}, ctx.signal);
  return key;
}

/** An operation on the key its `KeyId` input names, authorized as `action` on that key. */
export function onKey(deps: KmsDeps, action: `kms:${string}`, handle: (key: KmsKey, input: AwsInput, ctx: AwsCallContext) => Promise<Record<string, unknown>>): AwsOperation {
  return {
    access: null,
    async handle(input, ctx) {
      return handle(await authorizedKey(deps, str(input.KeyId), action, ctx), input, ctx);
    },
  };
}

/** Customers may not change AWS managed keys (KMS answers UnsupportedOperation / AccessDenied). */
export function requireCustomerManaged(key: KmsKey, what: string): void {
  if (key.manager === 'AWS') throw kmsFail('UnsupportedOperationException', `${key.arn} is an AWS managed key; you cannot ${what} it.`);
}

/** Marker paging over an already ordered list (markers are opaque to clients; here the last item's id). */
export function page<T>(items: T[], idOf: (t: T) => string, input: AwsInput): { items: T[]; next?: string } {
  const limit = typeof input.Limit === 'number' ? input.Limit : 100;
  let start = 0;
  if (typeof input.Marker === 'string') {
    const i = items.findIndex((t) => idOf(t) === input.Marker);
    if (i < 0) throw kmsFail('InvalidMarkerException', 'The marker is invalid.');
    start = i + 1;
  }
  const slice = items.slice(start, start + limit);
  return start + limit < items.length ? { items: slice, next: idOf(slice[slice.length - 1]!) } : { items: slice };
}
