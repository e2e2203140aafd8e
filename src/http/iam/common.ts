import type { ErrorCode } from '../../core/errors.js';
import { fail, isBerthError } from '../../core/errors.js';
import type { PolicyOwner } from '../../core/identity.js';
import type { IamService } from '../../auth/iam-service.js';
import type { AwsCallContext, AwsInput, AwsOperation, IamPrincipal } from '../aws/context.js';

/** IAM's default and largest page size (`MaxItems`). */
export const DEFAULT_MAX_ITEMS = 100;

/** A required string member (the plugin validated the input against the model, so it is present). */
export function str(input: AwsInput, member: string): string {
  const v = input[member];
  if (typeof v !== 'string') throw fail('ValidationError', `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  return v;
}

/** An optional string member. */
export function optStr(input: AwsInput, member: string): string | undefined {
  const v = input[member];
  return typeof v === 'string' ? v : undefined;
}

export const userResource = (accountId: string, userName: string, path = '/'): string => `arn:aws:iam::${accountId}:user${path}${userName}`;
export const groupResource = (accountId: string, groupName: string, path = '/'): string => `arn:aws:iam::${accountId}:group${path}${groupName}`;

export const userOwner = (accountId: string, name: string): PolicyOwner => ({ kind: 'user', accountId, name });
export const groupOwner = (accountId: string, name: string): PolicyOwner => ({ kind: 'group', accountId, name });

/**
 * The user an access-key or GetUser call is about: `UserName` when given, else the caller itself
 * (`null` for the account root, which has no user name).
 */
export function targetUser(input: AwsInput, principal: IamPrincipal): string | null {
  return optStr(input, 'UserName') ?? principal.userName ?? null;
}

/** The resource ARN of {@link targetUser}: the named user, or the caller's own ARN. */
export function targetUserResource(input: AwsInput, principal: IamPrincipal): string {
  const name = optStr(input, 'UserName');
  return name === undefined ? principal.arn : userResource(principal.accountId, name);
}

/** Shorthand for an operation whose IAM action and resource follow from the input alone. */
export function op(
  action: string,
  resource: (input: AwsInput, principal: IamPrincipal) => string,
  handle: (input: AwsInput, ctx: AwsCallContext) => Promise<Record<string, unknown>>,
): AwsOperation {
  return { access: (input, principal) => ({ action: `iam:${action}`, resource: resource(input, principal) }), handle };
}

export interface Page<T> {
  items: T[];
  IsTruncated: boolean;
  Marker?: string;
}

/** `MaxItems` and `Marker` of a list call. */
export function pageInput(input: AwsInput): { maxItems: number; marker?: string } {
  const max = typeof input.MaxItems === 'number' ? input.MaxItems : DEFAULT_MAX_ITEMS;
  const marker = optStr(input, 'Marker');
  return { maxItems: Math.min(Math.max(1, max), 1000), ...(marker ? { marker } : {}) };
}

/**
 * A page from a store listing that was asked for `maxItems + 1` items: the extra item only says
 * whether the listing is truncated; the marker is the key of the last item returned.
 */
export function pageFromFetched<T>(fetched: T[], maxItems: number, key: (t: T) => string): Page<T> {
  const items = fetched.slice(0, maxItems);
  const truncated = fetched.length > maxItems;
  const last = items[items.length - 1];
  return { items, IsTruncated: truncated, ...(truncated && last !== undefined ? { Marker: key(last) } : {}) };
}

/**
 * A page of a list held in memory. The marker is the key of the last item of the previous page; a
 * marker whose item has since gone resumes after the keys that sort before it.
 */
export function pageOfList<T>(all: T[], input: AwsInput, key: (t: T) => string): Page<T> {
  const { maxItems, marker } = pageInput(input);
  let start = 0;
  if (marker !== undefined) {
    const at = all.findIndex((t) => key(t) === marker);
    start = at >= 0 ? at + 1 : all.findIndex((t) => key(t) > marker);
    if (start < 0) start = all.length;
  }
  return pageFromFetched(all.slice(start, start + maxItems + 1), maxItems, key);
}

/** The paging members of a list output. */
export const paging = (p: Page<unknown>): { IsTruncated: boolean; Marker?: string } =>
  ({ IsTruncated: p.IsTruncated, ...(p.Marker !== undefined ? { Marker: p.Marker } : {}) });

/** Runs `work`, re-wording a `NoSuchEntity` the way IAM words it for this call. */
export async function notFoundAs<T>(work: Promise<T>, message: string, code: ErrorCode = 'NoSuchEntity'): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (isBerthError(e) && e.code === code) throw fail(code, message, e.detail);
    throw e;
  }
}

/** IAM returns policy documents URL-encoded (RFC 3986), as `GetUserPolicy` / `GetPolicyVersion` do. */
export function encodeDocument(document: string): string {
  return encodeURIComponent(document);
}

/** User or group: the two kinds of policy owner, addressed by `UserName` or `GroupName`. */
export type OwnerKind = 'User' | 'Group';

/**
 * How operations on a user's or a group's policies find their target: the input member naming it,
 * its ARN for authorization, and the owner itself, checked to exist (a missing user or group is
 * reported as such).
 */
export function policyOwner(iam: IamService, kind: OwnerKind) {
  const member = `${kind}Name`;
  return {
    member,
    resource: (i: AwsInput, p: IamPrincipal): string => (kind === 'User' ? userResource : groupResource)(p.accountId, str(i, member)),
    owner: async (i: AwsInput, accountId: string, signal: AbortSignal): Promise<PolicyOwner> => {
      const name = kind === 'User'
        ? (await iam.requireUser(accountId, str(i, member), signal)).userName
        : (await iam.requireGroup(accountId, str(i, member), signal)).groupName;
      return { kind: kind === 'User' ? 'user' : 'group', accountId, name };
    },
  };
}
