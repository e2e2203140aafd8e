// Entities → IAM model output shapes (members named exactly as in models/iam-2010-05-08.json).
// Listing operations return a subset of the attributes, as IAM does: ListUsers omits Tags,
// ListPolicies omits Description, ListPolicyVersions and CreatePolicyVersion omit Document.
import { createHash } from 'node:crypto';
import { groupArn, policyArn, userArn, type AccessKey, type IamGroup, type IamUser, type ManagedPolicy, type PolicyVersion } from '../../core/identity.js';
import { encodeDocument } from './common.js';

export function userShape(u: IamUser, opts: { tags: boolean }): Record<string, unknown> {
  return {
    Path: u.path, UserName: u.userName, UserId: u.userId, Arn: userArn(u), CreateDate: u.createdAt,
    ...(opts.tags && u.tags.length > 0 ? { Tags: u.tags.map((t) => ({ Key: t.Key, Value: t.Value })) } : {}),
  };
}

/** GetUser for the account root: IAM returns no UserName or Path, the account id as UserId. */
export function rootUserShape(accountId: string, createdAt: Date): Record<string, unknown> {
  return { UserId: accountId, Arn: `arn:aws:iam::${accountId}:root`, CreateDate: createdAt };
}

export function groupShape(g: IamGroup): Record<string, unknown> {
  return { Path: g.path, GroupName: g.groupName, GroupId: g.groupId, Arn: groupArn(g), CreateDate: g.createdAt };
}

export function accessKeyMetadataShape(k: AccessKey): Record<string, unknown> {
  return { ...(k.userName !== null ? { UserName: k.userName } : {}), AccessKeyId: k.accessKeyId, Status: k.status, CreateDate: k.createdAt };
}

/** A policy as `Policy` shape; `arn` is given for AWS managed ones (their account is `aws`). */
export function policyShape(p: ManagedPolicy & { arn?: string }, opts: { description: boolean }): Record<string, unknown> {
  return {
    PolicyName: p.policyName,
    PolicyId: p.policyId,
    Arn: p.arn ?? policyArn(p),
    Path: p.path,
    DefaultVersionId: p.defaultVersionId,
    AttachmentCount: p.attachmentCount,
    PermissionsBoundaryUsageCount: 0,
    IsAttachable: true,
    ...(opts.description && p.description !== undefined ? { Description: p.description } : {}),
    CreateDate: p.createdAt,
    UpdateDate: p.updatedAt,
  };
}

export function policyVersionShape(v: PolicyVersion, opts: { document: boolean }): Record<string, unknown> {
  return {
    ...(opts.document ? { Document: encodeDocument(v.document) } : {}),
    VersionId: v.versionId,
    IsDefaultVersion: v.isDefaultVersion,
    CreateDate: v.createdAt,
  };
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A stable `ANPA…` id for a built-in AWS managed policy (derived from its ARN, same on every node). */
export function builtInPolicyId(arn: string): string {
  const digest = createHash('sha256').update(arn).digest();
  let id = 'ANPA';
  for (let i = 0; i < 17; i++) id += BASE32[digest[i]! & 31];
  return id;
}
