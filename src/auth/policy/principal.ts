/**
 * `Principal`/`NotPrincipal` matching for resource policies.
 *
 * A caller is a chain of identities: its account, for a role session the role, and its own ARN.
 * Naming the account (`"123456789012"` or `arn:aws:iam::123456789012:root`) *delegates* to the
 * account rather than granting any particular user: IAM then still needs the account's own
 * identity policy to allow the user (IAM reference, "AWS account principals"). So a match is
 * graded: `direct` (grants on its own) or `account` (delegation only). The account root user is
 * the account, so for it an account match is direct.
 *
 * `NotPrincipal` excludes a caller only when every identity in its chain is listed, which is why
 * AWS tells you to list the account and role alongside a session ARN.
 */
import type { CallerPrincipal, PrincipalSet } from './types.js';

export type PrincipalMatch = 'none' | 'account' | 'direct';

type Identity =
  | { readonly kind: 'account'; readonly account: string }
  | { readonly kind: 'role'; readonly account: string; readonly role: string }
  | { readonly kind: 'arn'; readonly arn: string };

const ACCOUNT_ID = /^\d{12}$/;
const ROOT_ARN = /^arn:[^:]+:iam::(\d{12}):root$/;
const ROLE_ARN = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;
const SESSION_ARN = /^arn:[^:]+:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/;

/** Whether the caller is an account root user (flagged, or by its `:root` ARN). */
export function isRootCaller(p: CallerPrincipal): boolean {
  return p.isRoot === true || ROOT_ARN.test(p.arn);
}

/** The caller's identity chain, broadest first. */
function chain(p: CallerPrincipal): Identity[] {
  const out: Identity[] = [{ kind: 'account', account: p.account }];
  if (isRootCaller(p)) return out;
  const session = SESSION_ARN.exec(p.arn);
  if (session) out.push({ kind: 'role', account: session[1] ?? '', role: session[2] ?? '' });
  out.push({ kind: 'arn', arn: p.arn });
  return out;
}

/** Whether one `AWS` principal entry names this identity. */
function names(entry: string, id: Identity): boolean {
  switch (id.kind) {
    case 'account': return entry === id.account || ROOT_ARN.exec(entry)?.[1] === id.account;
    case 'role': {
      const m = ROLE_ARN.exec(entry);
      return m !== null && m[1] === id.account && m[2] === id.role;
    }
    case 'arn': return entry === id.arn;
  }
}

/** How a positive `Principal` element matches the caller. */
function matchPositive(set: PrincipalSet, p: CallerPrincipal): PrincipalMatch {
  if (set.wildcard) return 'direct';
  if (p.anonymous) return 'none';
  if (set.service.includes(p.arn) || set.federated.includes(p.arn)) return 'direct';
  let best: PrincipalMatch = 'none';
  for (const id of chain(p)) {
    if (!set.aws.some((entry) => names(entry, id))) continue;
    if (id.kind !== 'account' || isRootCaller(p)) return 'direct';
    best = 'account';
  }
  return best;
}

/**
 * Whether a statement's principal element applies to the caller, and how strongly.
 * For `NotPrincipal` an applying statement counts as `direct`.
 */
export function matchPrincipal(set: PrincipalSet, p: CallerPrincipal): PrincipalMatch {
  if (!set.negated) return matchPositive(set, p);
  if (set.wildcard) return 'none';
  if (p.anonymous) return 'direct';
  if (set.service.includes(p.arn) || set.federated.includes(p.arn)) return 'none';
  const excluded = chain(p).every((id) => set.aws.some((entry) => names(entry, id)));
  return excluded ? 'none' : 'direct';
}

/** Whether an `AWS` principal entry is syntactically acceptable: `*`, an account id, or an IAM/STS ARN. */
export function isAwsPrincipalEntry(entry: string): boolean {
  // IAM allows no wildcard inside an AWS principal ARN: only the bare "*".
  return entry === '*' || ACCOUNT_ID.test(entry) || /^arn:[^:]+:(iam|sts)::\d{12}:[^*?]+$/.test(entry);
}
