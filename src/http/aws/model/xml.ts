// AWS Query protocol responses (IAM, STS):
//   <CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
//     <CreateUserResult><User><UserName>bob</UserName>…</User></CreateUserResult>
//     <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata>
//   </CreateUserResponse>
// Hand-written rather than fast-xml-parser's XMLBuilder: the output is write-only, element-only (one
// attribute, on the root), its order comes from the model not from object key order, and escaping is the
// only subtle part — about 60 lines, versus a runtime dependency whose generic object→XML mapping would
// still need this model walk around it.
import { getOperation, getShape } from './load.js';
import type { ServiceModel, StructureShape } from './types.js';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' };
// Characters XML 1.0 cannot carry at all (C0 controls but tab/LF/CR, U+FFFE/F, unpaired surrogates).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NOT_XML = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `s` safe as XML text or attribute value: markup escaped, characters XML cannot carry replaced by U+FFFD. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"'\r]/g, (c) => ENTITIES[c] ?? c).replace(NOT_XML, '\uFFFD');
}

const el = (name: string, inner: string): string => `<${name}>${inner}</${name}>`;

function timestamp(value: unknown, path: string): string {
  const d = value instanceof Date ? value : typeof value === 'number' ? new Date(value * 1000) : typeof value === 'string' ? new Date(value) : undefined;
  if (!d || Number.isNaN(d.getTime())) throw new TypeError(`output ${path}: not a timestamp`);
  return d.toISOString();
}

/** The member elements of a structure, in model order; keys the model doesn't know are dropped (as SDKs would). */
function structureBody(model: ServiceModel, members: StructureShape['members'], obj: Record<string, unknown>, path: string): string {
  let inner = '';
  for (const [member, ref] of Object.entries(members)) {
    const v = obj[member];
    if (v !== undefined && v !== null) inner += serialize(model, ref.shape, v, ref.locationName ?? member, `${path}.${member}`);
  }
  return inner;
}

/** Serializes one value of shape `shapeName` as element `name`. Output is ours, so a type mismatch throws. */
function serialize(model: ServiceModel, shapeName: string, value: unknown, name: string, path: string): string {
  const shape = getShape(model, shapeName);
  const bad = (): never => {
    throw new TypeError(`output ${path}: expected ${shape.type}, got ${Array.isArray(value) ? 'array' : typeof value}`);
  };
  switch (shape.type) {
    case 'structure':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad();
      return el(name, structureBody(model, shape.members, value as Record<string, unknown>, path));
    case 'list': {
      if (!Array.isArray(value)) return bad();
      const itemName = shape.member.locationName ?? 'member';
      const items = value.map((v: unknown, i) => serialize(model, shape.member.shape, v, shape.flattened ? name : itemName, `${path}[${i}]`));
      return shape.flattened ? items.join('') : el(name, items.join(''));
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad();
      const k = shape.key.locationName ?? 'key';
      const v = shape.value.locationName ?? 'value';
      const entries = Object.entries(value as Record<string, unknown>).map(
        ([key, val]) => el('entry', el(k, escapeXml(key)) + serialize(model, shape.value.shape, val, v, `${path}.${key}`)),
      );
      return el(name, entries.join(''));
    }
    case 'string':
      return typeof value === 'string' ? el(name, escapeXml(value)) : bad();
    case 'integer':
    case 'long':
    case 'float':
    case 'double':
      return typeof value === 'number' || typeof value === 'bigint' ? el(name, String(value)) : bad();
    case 'boolean':
      return typeof value === 'boolean' ? el(name, String(value)) : bad();
    case 'timestamp':
      return el(name, timestamp(value, path));
    case 'blob':
      if (value instanceof Uint8Array) return el(name, Buffer.from(value).toString('base64'));
      return typeof value === 'string' ? el(name, escapeXml(value)) : bad();
  }
}

/**
 * The Query-protocol XML body for a successful `operationName`: `<OpResponse xmlns=…>`, the output inside the
 * model's `resultWrapper` (omitted for operations without output), then `ResponseMetadata/RequestId`.
 * Timestamps (Date, epoch seconds or ISO string) render as ISO 8601; blobs (bytes or base64) as base64.
 * Throws TypeError if `output` does not fit the model (a handler bug), Error if there is no such operation.
 */
export function renderQueryResponse(model: ServiceModel, operationName: string, output: Record<string, unknown>, requestId: string): string {
  const op = getOperation(model, operationName);
  const xmlns = model.metadata.xmlNamespace ?? '';
  let result = '';
  if (op.output) {
    const shape = getShape(model, op.output.shape);
    if (shape.type !== 'structure') throw new Error(`${operationName} output ${op.output.shape} is not a structure`);
    const body = structureBody(model, shape.members, output, operationName);
    // Without a resultWrapper the members sit directly in the response element.
    result = op.output.resultWrapper ? el(op.output.resultWrapper, body) : body;
  }
  const meta = el('ResponseMetadata', el('RequestId', escapeXml(requestId)));
  return `<${operationName}Response xmlns="${escapeXml(xmlns)}">${result}${meta}</${operationName}Response>`;
}

/**
 * The Query-protocol error body: `<ErrorResponse xmlns=…><Error><Type/><Code/><Message/></Error><RequestId/>
 * </ErrorResponse>`. `xmlNamespace` defaults to IAM's; pass the STS model's `metadata.xmlNamespace` for STS.
 */
export function renderQueryError(
  type: 'Sender' | 'Receiver',
  code: string,
  message: string,
  requestId: string,
  xmlNamespace = 'https://iam.amazonaws.com/doc/2010-05-08/',
): string {
  const error = el('Error', el('Type', type) + el('Code', escapeXml(code)) + el('Message', escapeXml(message)));
  return `<ErrorResponse xmlns="${escapeXml(xmlNamespace)}">${error}${el('RequestId', escapeXml(requestId))}</ErrorResponse>`;
}

/**
 * Wire details of a modeled Query-protocol error, from the exception shape's `error` trait:
 * e.g. IAM `NoSuchEntityException` → `{ code: 'NoSuchEntity', status: 404, type: 'Sender' }`.
 * Shapes without the trait get their shape name and 400/Sender (500/Receiver for faults).
 */
export function queryErrorInfo(model: ServiceModel, exceptionShape: string): { code: string; status: number; type: 'Sender' | 'Receiver' } {
  const shape = getShape(model, exceptionShape);
  const e = shape.error ?? {};
  const status = e.httpStatusCode ?? (shape.fault ? 500 : 400);
  const receiver = e.senderFault !== true && (shape.fault === true || status >= 500);
  return { code: e.code ?? exceptionShape, status, type: receiver ? 'Receiver' : 'Sender' };
}
