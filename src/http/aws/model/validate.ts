// Validates an AWS JSON 1.1 request body against the operation's input shape, the way the AWS front end does
// before a handler runs: JSON types, required members, length/range/enum/pattern constraints. One deliberate
// difference: members the model doesn't know are reported (real services drop them silently), so a typo like
// `repositoryNme` surfaces instead of turning into "repositoryName is required" — or worse, a default.
// `null` counts as absent (AWS SDKs never send it; the JSON protocol treats it as "not set").
import { compileJavaPattern } from './java-regex.js';
import { getOperation, getShape } from './load.js';
import { constraint, constraintMessage, typeMessage, unknownMessage } from './messages.js';
import type { BlobShape, ConstraintDetail, ListShape, MapShape, ServiceModel, StringShape, StructureShape, ValidationProblem } from './types.js';

export type { ValidationProblem } from './types.js';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;
const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity']);

class Walker {
  readonly problems: ValidationProblem[] = [];
  constructor(private readonly model: ServiceModel) {}

  private add(path: string, kind: ValidationProblem['kind'], message: string, detail?: ConstraintDetail): void {
    this.problems.push(detail ? { path, kind, message, detail } : { path, kind, message });
  }

  private bound(path: string, value: unknown, size: number, shape: { min?: number; max?: number; sensitive?: boolean }, what: 'length' | 'value'): void {
    const sensitive = shape.sensitive === true;
    if (shape.min !== undefined && size < shape.min) {
      const c = what === 'length' ? constraint.minLength(shape.min) : constraint.minValue(shape.min);
      this.add(path, 'min', constraintMessage(path, value, sensitive, c), { kind: 'min', of: what, limit: shape.min });
    }
    if (shape.max !== undefined && size > shape.max) {
      const c = what === 'length' ? constraint.maxLength(shape.max) : constraint.maxValue(shape.max);
      this.add(path, 'max', constraintMessage(path, value, sensitive, c), { kind: 'max', of: what, limit: shape.max });
    }
  }

  /** Validates `value` (never undefined/null here) against the shape named `shapeName`. */
  walk(shapeName: string, value: unknown, path: string): void {
    const shape = getShape(this.model, shapeName);
    switch (shape.type) {
      case 'structure':
        return this.structure(shapeName, shape, value, path);
      case 'list':
        return this.list(shape, value, path);
      case 'map':
        return this.map(shape, value, path);
      case 'string':
        if (typeof value !== 'string') return this.add(path, 'type', typeMessage(path, 'string', value));
        return this.string(shapeName, shape, value, path);
      case 'integer':
      case 'long':
        if (typeof value !== 'number' || !Number.isInteger(value)) return this.add(path, 'type', typeMessage(path, shape.type, value));
        return this.bound(path, value, value, shape, 'value');
      case 'float':
      case 'double':
        if (typeof value === 'string' && NON_FINITE.has(value)) return;
        if (typeof value !== 'number') return this.add(path, 'type', typeMessage(path, shape.type, value));
        return this.bound(path, value, value, shape, 'value');
      case 'boolean':
        if (typeof value !== 'boolean') this.add(path, 'type', typeMessage(path, 'boolean', value));
        return;
      case 'timestamp':
        if (!isTimestamp(value)) this.add(path, 'type', typeMessage(path, 'timestamp', value));
        return;
      case 'blob':
        return this.blob(shape, value, path);
    }
  }

  private structure(name: string, shape: StructureShape, value: unknown, path: string): void {
    if (!isPlainObject(value)) return this.add(path, 'type', typeMessage(path, 'structure', value));
    const prefix = path === '' ? '' : `${path}.`;
    const memberNames = Object.keys(shape.members);
    for (const key of Object.keys(value)) {
      if (!Object.hasOwn(shape.members, key)) this.add(prefix + key, 'unknown', unknownMessage(prefix + key, name, memberNames));
    }
    const required = new Set(shape.required ?? []);
    for (const [member, ref] of Object.entries(shape.members)) {
      const v = Object.hasOwn(value, member) ? value[member] : undefined;
      if (v === undefined || v === null) {
        if (required.has(member)) this.add(prefix + member, 'required', constraintMessage(prefix + member, null, false, constraint.notNull()), { kind: 'required' });
      } else this.walk(ref.shape, v, prefix + member);
    }
  }

  private list(shape: ListShape, value: unknown, path: string): void {
    if (!Array.isArray(value)) return this.add(path, 'type', typeMessage(path, 'list', value));
    value.forEach((item: unknown, i) => {
      const p = `${path}[${i}]`;
      if (item === null || item === undefined) this.add(p, 'required', constraintMessage(p, null, false, constraint.notNull()), { kind: 'required' });
      else this.walk(shape.member.shape, item, p);
    });
    this.bound(path, value, value.length, shape, 'length');
  }

  private map(shape: MapShape, value: unknown, path: string): void {
    if (!isPlainObject(value)) return this.add(path, 'type', typeMessage(path, 'map', value));
    const keyShape = getShape(this.model, shape.key.shape);
    const valueShape = getShape(this.model, shape.value.shape);
    for (const [k, v] of Object.entries(value)) {
      if (keyShape.type === 'string') this.scalarInMap(shape.key.shape, keyShape, k, path, constraint.mapKeys);
      if (v === null || v === undefined) continue;
      if (valueShape.type === 'string' && typeof v === 'string') this.scalarInMap(shape.value.shape, valueShape, v, path, constraint.mapValue);
      else this.walk(shape.value.shape, v, `${path}.${k}`);
    }
    this.bound(path, value, Object.keys(value).length, shape, 'length');
  }

  /** Map keys and string values are reported at the map's path, wrapped as AWS does: "Map keys must … [..]". */
  private scalarInMap(shapeName: string, shape: StringShape, s: string, path: string, wrap: (inner: string) => string): void {
    const inner = new Walker(this.model);
    inner.string(shapeName, shape, s, path);
    for (const p of inner.problems) {
      const phrase = p.message.slice(p.message.indexOf('constraint: ') + 'constraint: '.length);
      this.add(path, p.kind, constraintMessage(path, s, shape.sensitive === true, wrap(phrase)));
    }
  }

  private string(shapeName: string, shape: StringShape, value: string, path: string): void {
    const sensitive = shape.sensitive === true;
    if (shape.enum && !shape.enum.includes(value)) {
      this.add(path, 'enum', constraintMessage(path, value, sensitive, constraint.enumSet(shape.enum)), { kind: 'enum', values: shape.enum });
    }
    if (shape.pattern !== undefined) {
      const re = compileJavaPattern(shape.pattern);
      if (re && !re.test(value)) {
        this.add(path, 'pattern', constraintMessage(path, value, sensitive, constraint.pattern(shape.pattern)), { kind: 'pattern', pattern: shape.pattern, shape: shapeName });
      }
    }
    this.bound(path, value, value.length, shape, 'length');
  }

  private blob(shape: BlobShape, value: unknown, path: string): void {
    if (typeof value !== 'string' || !BASE64.test(value)) return this.add(path, 'type', typeMessage(path, 'blob', value));
    const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
    this.bound(path, value, (value.length / 4) * 3 - padding, shape, 'length');
  }
}

function isTimestamp(value: unknown): boolean {
  if (value instanceof Date) return !Number.isNaN(value.getTime());
  if (typeof value === 'number') return Number.isFinite(value);
  return typeof value === 'string' && ISO_8601.test(value) && !Number.isNaN(Date.parse(value));
}

/**
 * Problems with `input` as the body of `operationName` (empty when valid). The top level must be a JSON object;
 * an operation without an input shape accepts only `{}`. Throws only if the model has no such operation.
 */
export function validateInput(model: ServiceModel, operationName: string, input: unknown): ValidationProblem[] {
  const op = getOperation(model, operationName);
  const walker = new Walker(model);
  if (!op.input) {
    if (!isPlainObject(input)) walker.problems.push({ path: '', kind: 'type', message: typeMessage('', 'structure', input) });
    else for (const key of Object.keys(input)) walker.problems.push({ path: key, kind: 'unknown', message: unknownMessage(key, `${operationName}, which takes no input`, []) });
    return walker.problems;
  }
  walker.walk(op.input.shape, input, '');
  return walker.problems;
}
