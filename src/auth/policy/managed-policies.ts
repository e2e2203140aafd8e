/**
 * The AWS managed policies for ECR that berth has built in, with their real ARNs and the
 * documents AWS publishes (AWS managed policy reference and the ECR user guide, "AWS managed
 * policies for Amazon ECR"; ReadOnly and PowerUser at v3).
 */
import { normalizePolicy } from './parse.js';
import type { Policy } from './types.js';

export interface ManagedPolicy {
  readonly name: string;
  readonly arn: string;
  readonly description: string;
  /** The document as AWS returns it from `GetPolicyVersion` (decoded). */
  readonly document: Readonly<Record<string, unknown>>;
  /** The document parsed as an identity policy, ready for `evaluate`. */
  readonly policy: Policy;
}

const READ_ACTIONS = [
  'ecr:GetAuthorizationToken',
  'ecr:BatchCheckLayerAvailability',
  'ecr:GetDownloadUrlForLayer',
  'ecr:GetRepositoryPolicy',
  'ecr:DescribeRepositories',
  'ecr:ListImages',
  'ecr:DescribeImages',
  'ecr:BatchGetImage',
  'ecr:GetLifecyclePolicy',
  'ecr:GetLifecyclePolicyPreview',
  'ecr:ListTagsForResource',
  'ecr:DescribeImageScanFindings',
];

const PUSH_ACTIONS = ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'];

function managed(name: string, description: string, document: Record<string, unknown>): ManagedPolicy {
  const parsed = normalizePolicy(document, 'identity');
  // A typo in a built-in document is a programming error: fail at import, not at the first request.
  if (!('policy' in parsed)) throw new Error(`built-in policy ${name} is invalid: ${parsed.errors.join('; ')}`);
  return Object.freeze({ name, arn: `arn:aws:iam::aws:policy/${name}`, description, document, policy: parsed.policy });
}

export const AMAZON_EC2_CONTAINER_REGISTRY_READ_ONLY = managed(
  'AmazonEC2ContainerRegistryReadOnly',
  'Provides read-only access to Amazon EC2 Container Registry repositories.',
  { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: READ_ACTIONS, Resource: '*' }] },
);

export const AMAZON_EC2_CONTAINER_REGISTRY_POWER_USER = managed(
  'AmazonEC2ContainerRegistryPowerUser',
  'Provides full access to Amazon EC2 Container Registry repositories, but does not allow repository deletion or policy changes.',
  { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: [...READ_ACTIONS, ...PUSH_ACTIONS], Resource: '*' }] },
);

export const AMAZON_EC2_CONTAINER_REGISTRY_FULL_ACCESS = managed(
  'AmazonEC2ContainerRegistryFullAccess',
  'Provides administrative access to Amazon ECR resources',
  {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['ecr:*', 'cloudtrail:LookupEvents'], Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['iam:CreateServiceLinkedRole'],
        Resource: '*',
        Condition: { StringEquals: { 'iam:AWSServiceName': ['replication.ecr.amazonaws.com'] } },
      },
    ],
  },
);

/** The built-in managed policies, keyed by ARN (how IAM `AttachUserPolicy` names them). */
export const MANAGED_POLICIES: ReadonlyMap<string, ManagedPolicy> = new Map(
  [AMAZON_EC2_CONTAINER_REGISTRY_READ_ONLY, AMAZON_EC2_CONTAINER_REGISTRY_POWER_USER, AMAZON_EC2_CONTAINER_REGISTRY_FULL_ACCESS]
    .map((p) => [p.arn, p]),
);
