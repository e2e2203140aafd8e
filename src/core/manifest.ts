import * as v from 'valibot';
import { createHash } from 'node:crypto';
import { type Digest, isDigest } from './digest.js';
import { fail } from './errors.js';
import { MediaType, isIndexMediaType, isNonDistributable, EMPTY_JSON_DIGEST } from './media-types.js';

/** Manifests larger than this are refused (the OCI spec's recommended minimum a registry must accept). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * The schemas of the two manifest kinds, built with the first manifest parsed rather than at load
 * (not on a server start's path; issue 12). Unknown fields are kept, as the spec allows them.
 */
function buildSchemas() {
  const annotations = v.optional(v.record(v.string(), v.string()));
  const descriptor = v.looseObject({
    mediaType: v.pipe(v.string(), v.minLength(1), v.maxLength(255)),
    digest: v.pipe(v.string(), v.check(isDigest, 'invalid digest')),
    size: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
    urls: v.optional(v.array(v.string())),
    annotations,
    artifactType: v.optional(v.string()),
    platform: v.optional(v.looseObject({ architecture: v.string(), os: v.string() })),
  });
  return {
    descriptor,
    imageManifest: v.looseObject({
      schemaVersion: v.literal(2),
      mediaType: v.optional(v.string()),
      artifactType: v.optional(v.string()),
      config: descriptor,
      layers: v.array(descriptor),
      subject: v.optional(descriptor),
      annotations,
    }),
    imageIndex: v.looseObject({
      schemaVersion: v.literal(2),
      mediaType: v.optional(v.string()),
      artifactType: v.optional(v.string()),
      manifests: v.array(descriptor),
      subject: v.optional(descriptor),
      annotations,
    }),
  };
}
let schemas: ReturnType<typeof buildSchemas> | undefined;

export type Descriptor = v.InferOutput<ReturnType<typeof buildSchemas>['descriptor']>;

/** What the registry needs to know about a manifest once it has been parsed and checked. */
export interface ParsedManifest {
  mediaType: string;
  digest: Digest;
  size: number;
  /** Blobs that must exist in the repository (config and layers; non-distributable layers excluded). */
  blobs: Digest[];
  /** Child manifests of an index that must exist in the repository. */
  manifests: Digest[];
  /** Sum of the sizes of every descriptor it references (ECR's `imageSizeInBytes`). */
  imageSize: number;
  subject?: Descriptor;
  /** `artifactType`, or for an image manifest without one its config media type (as the referrers API reports). */
  artifactType?: string;
  annotations?: Record<string, string>;
}

export function digestOf(body: Uint8Array, algorithm: 'sha256' | 'sha512' = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(body).digest('hex')}` as Digest;
}

/**
 * Parses and validates a manifest body. `contentType` is the type the client declared
 * (the `Content-Type` of a PUT, or ECR's `imageManifestMediaType`); when it is absent the
 * body's own `mediaType` decides. Throws `ManifestInvalid` or `PayloadTooLarge`.
 */
export function parseManifest(body: Uint8Array, contentType: string | undefined, algorithm: 'sha256' | 'sha512' = 'sha256'): ParsedManifest {
  if (body.byteLength > MAX_MANIFEST_BYTES) {
    throw fail('PayloadTooLarge', `manifest exceeds ${MAX_MANIFEST_BYTES} bytes`, { size: body.byteLength, limit: MAX_MANIFEST_BYTES });
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    throw fail('ManifestInvalid', 'manifest is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw fail('ManifestInvalid', 'manifest must be a JSON object');
  const record = json as Record<string, unknown>;
  const bodyType = typeof record.mediaType === 'string' ? record.mediaType : undefined;
  const declared = normalizeContentType(contentType);
  if (record.schemaVersion === 1 || declared === MediaType.DockerSchema1 || declared === MediaType.DockerSchema1Signed) {
    throw fail('ManifestInvalid', 'Docker image manifest schema 1 is not supported; push with schema 2 or OCI');
  }
  if (declared && bodyType && declared !== bodyType) {
    throw fail('ManifestInvalid', `Content-Type ${declared} does not match the manifest's mediaType ${bodyType}`);
  }
  let mediaType = declared ?? bodyType;
  if (!mediaType) {
    // An OCI manifest may omit mediaType; infer it from its shape as other registries do.
    mediaType = Array.isArray(record.manifests) ? MediaType.OciIndex : MediaType.OciManifest;
  }
  const digest = digestOf(body, algorithm);
  const size = body.byteLength;
  if (mediaType === MediaType.OciManifest || mediaType === MediaType.DockerManifest) {
    const r = v.safeParse((schemas ??= buildSchemas()).imageManifest, json);
    if (!r.success) throw invalid(r.issues);
    const m = r.output;
    const blobs = [m.config, ...m.layers]
      .filter((d) => !isNonDistributable(d.mediaType) && d.digest !== EMPTY_JSON_DIGEST)
      .map((d) => d.digest as Digest);
    return {
      mediaType, digest, size, blobs: unique(blobs), manifests: [],
      imageSize: [m.config, ...m.layers].reduce((sum, d) => sum + d.size, 0),
      ...(m.subject ? { subject: m.subject } : {}),
      artifactType: m.artifactType ?? m.config.mediaType,
      ...(m.annotations ? { annotations: m.annotations } : {}),
    };
  }
  if (isIndexMediaType(mediaType)) {
    const r = v.safeParse((schemas ??= buildSchemas()).imageIndex, json);
    if (!r.success) throw invalid(r.issues);
    const m = r.output;
    return {
      mediaType, digest, size, blobs: [], manifests: unique(m.manifests.map((d) => d.digest as Digest)),
      imageSize: m.manifests.reduce((sum, d) => sum + d.size, 0),
      ...(m.subject ? { subject: m.subject } : {}),
      ...(m.artifactType ? { artifactType: m.artifactType } : {}),
      ...(m.annotations ? { annotations: m.annotations } : {}),
    };
  }
  throw fail('ManifestInvalid', `unsupported manifest media type ${mediaType.slice(0, 200)}`);
}

function normalizeContentType(ct: string | undefined): string | undefined {
  const t = ct?.split(';')[0]?.trim().toLowerCase();
  // Generic JSON types say nothing about the manifest kind: let the body decide.
  if (!t || t === 'application/json' || t === 'application/octet-stream' || t === 'text/plain') return undefined;
  return t;
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function invalid(issues: readonly v.BaseIssue<unknown>[]): Error {
  const issue = issues[0];
  const where = issue?.path?.map((item) => String(item.key)).join('.') || '(root)';
  return fail('ManifestInvalid', `manifest invalid at ${where}: ${issue?.message ?? 'schema mismatch'}`);
}
