// The subset of the botocore service-model JSON that berth reads. Field names are botocore's own, so a model
// file can be cast to these types after a shallow sanity check (see load.ts). Anything botocore adds that we
// don't use (documentation, examples, endpoint rules) is simply absent from the types.

/** A reference from a member, list element, map key/value or operation to a named shape. */
export interface ShapeRef {
  /** Name of the target shape in `ServiceModel.shapes`. */
  shape: string;
  /** Wire name when it differs from the member name (absent in the models berth ships, honoured anyway). */
  locationName?: string;
  /** Query protocol: list/map serialized without the `member`/`entry` wrapper. */
  flattened?: boolean;
  deprecated?: boolean;
  deprecatedMessage?: string;
}

/** An operation's output reference; Query-protocol outputs name the XML element that wraps the result. */
export interface OutputRef extends ShapeRef {
  resultWrapper?: string;
}

/** Fields every shape may carry. */
interface ShapeCommon {
  /** Values of this shape must not be echoed in error messages or logs. */
  sensitive?: boolean;
  deprecated?: boolean;
  /** Present (true) on error structures. */
  exception?: boolean;
  /** Present (true) on server-fault error structures. */
  fault?: boolean;
  /** Query protocol error metadata: the wire `Code`, status and whether the caller is at fault. */
  error?: { code?: string; httpStatusCode?: number; senderFault?: boolean };
}

/** A structure: named members, some of them required. */
export interface StructureShape extends ShapeCommon {
  type: 'structure';
  members: Record<string, ShapeRef>;
  required?: string[];
}

/** A list of one member shape; `min`/`max` bound the element count. */
export interface ListShape extends ShapeCommon {
  type: 'list';
  member: ShapeRef;
  min?: number;
  max?: number;
  flattened?: boolean;
}

/** A map; JSON object on the JSON protocol, `entry.N.key/value` on the Query protocol. */
export interface MapShape extends ShapeCommon {
  type: 'map';
  key: ShapeRef;
  value: ShapeRef;
  min?: number;
  max?: number;
  flattened?: boolean;
}

/** A string; `min`/`max` are UTF-16 code-unit lengths (Java's `String.length()`), `pattern` is a Java regex. */
export interface StringShape extends ShapeCommon {
  type: 'string';
  enum?: string[];
  pattern?: string;
  min?: number;
  max?: number;
}

/** The numeric shape types. */
export type NumberType = 'integer' | 'long' | 'float' | 'double';

/** A number; `min`/`max` bound the value. */
export interface NumberShape extends ShapeCommon {
  type: NumberType;
  min?: number;
  max?: number;
}

/** A boolean. */
export interface BooleanShape extends ShapeCommon {
  type: 'boolean';
}

/** A timestamp: epoch seconds on the JSON protocol, ISO 8601 on the Query protocol. */
export interface TimestampShape extends ShapeCommon {
  type: 'timestamp';
  timestampFormat?: 'iso8601' | 'unixTimestamp' | 'rfc822';
}

/** Binary data, base64 on both wire protocols; `min`/`max` bound the decoded byte length. */
export interface BlobShape extends ShapeCommon {
  type: 'blob';
  min?: number;
  max?: number;
}

/** Any shape berth understands. */
export type Shape =
  | StructureShape
  | ListShape
  | MapShape
  | StringShape
  | NumberShape
  | BooleanShape
  | TimestampShape
  | BlobShape;

/** One API operation. */
export interface Operation {
  name: string;
  http?: { method: string; requestUri: string };
  input?: ShapeRef;
  output?: OutputRef;
  errors?: ShapeRef[];
  deprecated?: boolean;
}

/** Service-wide wire metadata. */
export interface ServiceMetadata {
  apiVersion: string;
  endpointPrefix: string;
  /** `json` for ECR, ECR Public, KMS; `query` for IAM, STS. */
  protocol: 'json' | 'query' | 'rest-json' | 'rest-xml' | 'ec2';
  serviceId: string;
  signatureVersion?: string;
  uid?: string;
  /** JSON protocol: the `application/x-amz-json-<jsonVersion>` content type. */
  jsonVersion?: string;
  /** JSON protocol: the `X-Amz-Target` prefix before the `.OperationName`. */
  targetPrefix?: string;
  /** SigV4 service name when it differs from `endpointPrefix`. */
  signingName?: string;
  /** Query protocol: the `xmlns` of every response document. */
  xmlNamespace?: string;
  globalEndpoint?: string;
}

/** A parsed botocore service model (documentation stripped). */
export interface ServiceModel {
  version?: string;
  metadata: ServiceMetadata;
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}

/** The services whose models berth ships under `models/`. */
export type ServiceName = 'ecr' | 'ecr-public' | 'iam' | 'sts' | 'kms';

/** One botocore paginator: which input/output members carry the token, the page size and the items. */
export interface Paginator {
  input_token: string | string[];
  output_token?: string | string[];
  limit_key?: string;
  result_key?: string | string[];
  more_results?: string;
  non_aggregate_keys?: string[];
}

/** One botocore waiter (kept opaque beyond what a test or handler needs). */
export interface Waiter {
  operation: string;
  delay: number;
  maxAttempts: number;
  acceptors: { state: string; matcher: string; argument?: string; expected: unknown }[];
}

/**
 * Which constraint a value broke, for services that word the failure their own way (see error-style.ts).
 * `shape` names the model shape that carries the constraint.
 */
export type ConstraintDetail =
  | { kind: 'required' }
  | { kind: 'min' | 'max'; of: 'length' | 'value'; limit: number }
  | { kind: 'pattern'; pattern: string; shape: string }
  | { kind: 'enum'; values: readonly string[] };

/** One problem found in an operation's input. `path` is member names, `[i]` (0-based) for list items. */
export interface ValidationProblem {
  path: string;
  kind: 'unknown' | 'type' | 'required' | 'min' | 'max' | 'pattern' | 'enum';
  /** One AWS-style sentence, e.g. "Value 'A' at 'repositoryName' failed to satisfy constraint: …". */
  message: string;
  /** The broken constraint, for constraint problems outside maps (absent for unknown members and wrong types). */
  detail?: ConstraintDetail;
}
