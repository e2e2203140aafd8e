// How each AWS service reports a request that breaks its model's constraints. The model says what is
// invalid; it does not say which exception a service answers with or how it words it, and the services
// differ:
//   - IAM, STS (Query protocol): `ValidationError`, "1 validation error detected: Value 'x' at 'userName'
//     failed to satisfy constraint: Member must …" (every problem, joined by "; ").
//   - KMS: `ValidationException` with that same "N validation errors detected: …" wording.
//   - ECR: `InvalidParameterException`, one problem, in ECR's own words — as quoted in public reports:
//       Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''
//       Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'
//       Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [...]'
//     (jenkins-x/jx#1344, int128/create-ecr-repository-action#231, aws/aws-dotnet-deploy#549, boto/boto3#3191,
//     hashicorp/terraform-provider-aws#40309; the enum form as moto's ECR tests expect it).
// ECR Public answers as ECR does. A service not listed uses the generic AWS wording with `ValidationException`.
import type { ErrorCode } from '../../../core/errors.js';
import { awsPath, formatValidationMessage } from './messages.js';
import type { ConstraintDetail, ServiceName, ValidationProblem } from './types.js';

/** How one service answers input that fails model validation. */
export interface ValidationStyle {
  /** Domain code whose wire name the surface renders (`ValidationError` → ValidationException/ValidationError, `InvalidParameter` → InvalidParameterException). */
  readonly code: ErrorCode;
  /** The message for `problems` (never called with none). */
  message(problems: readonly ValidationProblem[]): string;
}

/** The AWS front end's generic wording: every problem, "N validation errors detected: …". */
export const AWS_VALIDATION_STYLE: ValidationStyle = { code: 'ValidationError', message: formatValidationMessage };

/**
 * ECR quotes its own, older form of the repository-name pattern, not the model's. Every name the model's
 * pattern refuses is refused by this one too (its separators are a subset), so quoting it never misleads.
 */
const ECR_QUOTED_PATTERNS: Readonly<Record<string, string>> = {
  RepositoryName: '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*',
};

function ecrPhrase(d: ConstraintDetail): string {
  switch (d.kind) {
    case 'required':
      return 'must not be null';
    case 'min':
      return `must have ${d.of} greater than or equal to ${d.limit}`;
    case 'max':
      return `must have ${d.of} less than or equal to ${d.limit}`;
    case 'pattern':
      return `must satisfy regular expression '${ECR_QUOTED_PATTERNS[d.shape] ?? d.pattern}'`;
    case 'enum':
      return `Member must satisfy enum value set: [${d.values.join(', ')}]`;
  }
}

/** ECR: `InvalidParameterException` naming the first problem, "Invalid parameter at '<member>' failed to satisfy constraint: '<why>'". */
export const ECR_VALIDATION_STYLE: ValidationStyle = {
  code: 'InvalidParameter',
  message(problems) {
    const first = problems[0]!;
    // Unknown members and wrong JSON types have no ECR wording (ECR drops the one, fails to parse the other).
    if (!first.detail) return first.message;
    return `Invalid parameter at '${awsPath(first.path)}' failed to satisfy constraint: '${ecrPhrase(first.detail)}'`;
  },
};

const STYLES: Partial<Record<ServiceName, ValidationStyle>> = {
  ecr: ECR_VALIDATION_STYLE,
  // ECR Public is served by the same front end as ECR (its protocol target is SpencerFrontendService, and
  // its model lists InvalidParameterException on every operation): ECR's style, not the generic one.
  'ecr-public': ECR_VALIDATION_STYLE,
};

/** The validation style of `service` (the generic AWS one unless the service has its own). */
export function validationStyle(service: ServiceName): ValidationStyle {
  return STYLES[service] ?? AWS_VALIDATION_STYLE;
}
