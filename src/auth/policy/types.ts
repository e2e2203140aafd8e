/**
 * Shapes of the IAM policy engine. A {@link Policy} is the normalized form `parsePolicy` returns:
 * every "string or array" element of the JSON grammar becomes an array, so evaluation never
 * branches on the document's spelling.
 */

/** Policy language versions IAM accepts. Policy variables are only expanded under 2012-10-17. */
export type PolicyVersion = '2012-10-17' | '2008-10-17';

export type Effect = 'Allow' | 'Deny';

/** Where a policy is attached: identity policies have no Principal, resource policies must. */
export type PolicyKind = 'identity' | 'resource';

/** `Action`/`NotAction` or `Resource`/`NotResource`: `negated` is true for the `Not…` form. */
export interface PatternList {
  readonly negated: boolean;
  readonly patterns: readonly string[];
}

/** The `Principal`/`NotPrincipal` element, split by principal type. */
export interface PrincipalSet {
  readonly negated: boolean;
  /** `"Principal": "*"` or `{"AWS": "*"}`: everyone, anonymous callers included. */
  readonly wildcard: boolean;
  /** Account ids, `arn:…:iam::ACCOUNT:root`, user/role/session ARNs. */
  readonly aws: readonly string[];
  readonly service: readonly string[];
  readonly federated: readonly string[];
  readonly canonicalUser: readonly string[];
}

/** The condition operator families, without set qualifier or `IfExists` suffix. */
export type BaseOperator =
  | 'StringEquals' | 'StringNotEquals' | 'StringEqualsIgnoreCase' | 'StringNotEqualsIgnoreCase'
  | 'StringLike' | 'StringNotLike'
  | 'ArnEquals' | 'ArnNotEquals' | 'ArnLike' | 'ArnNotLike'
  | 'NumericEquals' | 'NumericNotEquals' | 'NumericLessThan' | 'NumericLessThanEquals'
  | 'NumericGreaterThan' | 'NumericGreaterThanEquals'
  | 'DateEquals' | 'DateNotEquals' | 'DateLessThan' | 'DateLessThanEquals'
  | 'DateGreaterThan' | 'DateGreaterThanEquals'
  | 'Bool' | 'BinaryEquals' | 'IpAddress' | 'NotIpAddress' | 'Null';

export type SetQualifier = 'ForAnyValue' | 'ForAllValues';

/** One `operator → key → values` triple of a `Condition` block. All conditions of a statement are ANDed. */
export interface Condition {
  /** The operator as written, e.g. `ForAnyValue:StringLikeIfExists` (for messages). */
  readonly raw: string;
  readonly operator: BaseOperator;
  readonly qualifier?: SetQualifier;
  readonly ifExists: boolean;
  /** The context key as written; lookups are case-insensitive. */
  readonly key: string;
  /** Policy values, stringified (JSON `true` → `'true'`, `5` → `'5'`). ORed (ANDed-as-none for negated operators). */
  readonly values: readonly string[];
}

export interface Statement {
  readonly sid?: string;
  readonly effect: Effect;
  readonly action: PatternList;
  /** Absent only in resource policies, where it means "the resource this policy is attached to". */
  readonly resource?: PatternList;
  /** Present only in resource policies. */
  readonly principal?: PrincipalSet;
  readonly conditions: readonly Condition[];
}

export interface Policy {
  readonly kind: PolicyKind;
  readonly version?: PolicyVersion;
  readonly id?: string;
  readonly statements: readonly Statement[];
}

/**
 * A request-context value. `undefined` means the key is absent; an array is a multi-valued key
 * (an empty array counts as absent, as IAM treats an empty `aws:TagKeys`). Dates and epoch-second
 * numbers feed the `Date…` operators; booleans feed `Bool`.
 */
export type ConditionValue = string | string[] | boolean | number | Date | undefined;

/** The caller. `account` is the 12-digit account owning the principal. */
export interface CallerPrincipal {
  /**
   * `arn:aws:iam::ACCT:user/…`, `arn:aws:iam::ACCT:root`, `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`,
   * or for a service caller the service name (`replication.ecr.amazonaws.com`), matched by `{"Service": …}`.
   */
  readonly arn: string;
  readonly account: string;
  /** The account root user: full access inside its own account unless explicitly denied. */
  readonly isRoot?: boolean;
  /** Unauthenticated caller: only `Principal: "*"` resource statements can allow it. */
  readonly anonymous?: boolean;
}

export interface EvaluationRequest {
  /** `service:Action`, e.g. `ecr:BatchGetImage`; matched case-insensitively. */
  readonly action: string;
  /** The ARN acted on, e.g. `arn:aws:ecr:us-east-1:123456789012:repository/team/app`. */
  readonly resource: string;
  /** Account owning the resource; decides same-account vs cross-account evaluation. */
  readonly resourceAccount: string;
  readonly principal: CallerPrincipal;
  /** The caller's inline, attached and group policies (empty for anonymous callers). */
  readonly identityPolicies: readonly Policy[];
  /** Policies attached to the resource, e.g. the repository policy and the registry policy. */
  readonly resourcePolicies: readonly Policy[];
  /**
   * Condition keys (`aws:SourceIp`, `aws:CurrentTime`, `aws:RequestTag/env`, …), case-insensitive.
   * `aws:PrincipalArn` and `aws:PrincipalAccount` default to the caller's when not given.
   */
  readonly context: Readonly<Record<string, ConditionValue>>;
  /**
   * KMS's rule instead of IAM's: the resource policy is a key policy and must allow the request,
   * either naming the caller (Allow on its own) or naming the caller's account, which delegates
   * to IAM (then an identity policy must allow too). The root user is not allowed implicitly.
   */
  readonly keyPolicyRule?: boolean;
}

export interface MatchedStatement {
  readonly source: 'identity' | 'resource';
  readonly policyIndex: number;
  readonly statementIndex: number;
  readonly sid?: string;
  readonly effect: Effect;
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

export interface EvaluationResult {
  readonly decision: Decision;
  /** One human-readable sentence: why, for logs and `AccessDenied` messages. */
  readonly reason: string;
  /** Every statement that applied to the request (Allow and Deny), in evaluation order. */
  readonly matchedStatements: readonly MatchedStatement[];
}
