// AWS Query protocol input (IAM, STS): a form body of flattened names, typed by the model.
//   UserName=bob                      → { UserName: 'bob' }
//   Tags.member.1.Key=k&…Value=v      → { Tags: [{ Key: 'k', Value: 'v' }] }   (1-based, ordered by index)
//   Tags=                             → { Tags: [] }                           (how SDKs send an empty list)
//   Attrs.entry.1.key=a&…value=b      → { Attrs: { a: 'b' } }
//   MaxItems=10 / Enabled=true        → numbers and booleans parsed per the shape
// Dotted names are first gathered into a tree, then the tree is typed against the input shape, then the
// typed input goes through validateInput — so Query and JSON callers get the same constraint checks.
import { getOperation, getShape } from './load.js';
import { typeMessage, unknownMessage } from './messages.js';
import { validateInput } from './validate.js';
import type { ListShape, MapShape, ServiceModel, Shape, StructureShape, ValidationProblem } from './types.js';

interface FormNode {
  value?: string;
  children: Map<string, FormNode>;
}

/** Parameters every Query request carries that are not part of the operation input. */
const ENVELOPE = new Set(['Action', 'Version']);
const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INDEX = /^[1-9]\d*$/;

function buildTree(form: URLSearchParams): FormNode {
  const root: FormNode = { children: new Map() };
  for (const [name, value] of form) {
    if (ENVELOPE.has(name)) continue;
    let node = root;
    for (const part of name.split('.')) {
      let child = node.children.get(part);
      if (!child) node.children.set(part, (child = { children: new Map() }));
      node = child;
    }
    node.value = value;
  }
  return root;
}

class Typer {
  readonly problems: ValidationProblem[] = [];
  /** Parameters present but unreadable (already reported); validation must not call them missing. */
  readonly unreadable = new Set<string>();
  constructor(private readonly model: ServiceModel) {}

  private wrongType(path: string, type: Shape['type'], value: unknown, actual?: string): undefined {
    this.problems.push({ path, kind: 'type', message: typeMessage(path, type, value, actual) });
    return undefined;
  }

  private unknown(path: string, where: string, members: readonly string[]): void {
    this.problems.push({ path, kind: 'unknown', message: unknownMessage(path, where, members) });
  }

  /** The typed value of `node` for the shape named `shapeName`, or undefined (with a problem) if it has none. */
  convert(shapeName: string, node: FormNode, path: string): unknown {
    const shape = getShape(this.model, shapeName);
    if (shape.type === 'structure') return this.structure(shapeName, shape, node, path);
    if (shape.type === 'list') return this.list(shape, node, path);
    if (shape.type === 'map') return this.map(shape, node, path);
    if (node.children.size > 0 || node.value === undefined) return this.wrongType(path, shape.type, undefined, 'a nested parameter');
    const v = node.value;
    switch (shape.type) {
      case 'string':
      case 'blob':
        return v;
      case 'integer':
      case 'long':
        return INTEGER.test(v) ? Number(v) : this.wrongType(path, shape.type, v);
      case 'float':
      case 'double':
        return NUMBER.test(v) ? Number(v) : ['NaN', 'Infinity', '-Infinity'].includes(v) ? v : this.wrongType(path, shape.type, v);
      case 'boolean':
        return v.toLowerCase() === 'true' ? true : v.toLowerCase() === 'false' ? false : this.wrongType(path, 'boolean', v);
      case 'timestamp': {
        const d = INTEGER.test(v) ? new Date(Number(v) * 1000) : new Date(v);
        return Number.isNaN(d.getTime()) ? this.wrongType(path, 'timestamp', v) : d;
      }
    }
  }

  structure(name: string, shape: StructureShape, node: FormNode, path: string): Record<string, unknown> | undefined {
    if (node.value !== undefined && node.children.size === 0) return this.wrongType(path, 'structure', node.value);
    const byWireName = new Map(Object.entries(shape.members).map(([m, ref]) => [ref.locationName ?? m, m] as const));
    const out: Record<string, unknown> = {};
    const prefix = path === '' ? '' : `${path}.`;
    for (const [wire, child] of node.children) {
      const member = byWireName.get(wire);
      const ref = member === undefined ? undefined : shape.members[member];
      if (member === undefined || ref === undefined) {
        this.unknown(prefix + wire, name, [...byWireName.keys()]);
        continue;
      }
      const v = this.convert(ref.shape, child, prefix + member);
      if (v !== undefined) out[member] = v;
    }
    return out;
  }

  /** Numbered children (`1`, `2`, …) in index order; anything else is reported. */
  private numbered(node: FormNode, path: string): FormNode[] {
    const items: [number, FormNode][] = [];
    for (const [k, child] of node.children) {
      if (INDEX.test(k)) items.push([Number(k), child]);
      else this.unknown(`${path}.${k}`, `${path} (expected a 1-based index)`, []);
    }
    return items.sort((a, b) => a[0] - b[0]).map(([, n]) => n);
  }

  /** The node holding numbered items: the node itself when flattened, else its `wrapper` child. */
  private container(node: FormNode, flattened: boolean, wrapper: string, path: string): FormNode | undefined {
    if (flattened) return node;
    const inner = node.children.get(wrapper);
    for (const k of node.children.keys()) if (k !== wrapper) this.unknown(`${path}.${k}`, `${path} (expected '${wrapper}')`, [wrapper]);
    if (!inner) this.unreadable.add(path);
    return inner;
  }

  list(shape: ListShape, node: FormNode, path: string): unknown[] | undefined {
    if (node.children.size === 0) return node.value === '' ? [] : this.wrongType(path, 'list', node.value ?? '');
    const inner = this.container(node, shape.flattened === true || shape.member.flattened === true, shape.member.locationName ?? 'member', path);
    if (!inner) return undefined;
    const out: unknown[] = [];
    this.numbered(inner, path).forEach((item, i) => {
      const v = this.convert(shape.member.shape, item, `${path}[${i}]`);
      if (v !== undefined) out.push(v);
    });
    return out;
  }

  map(shape: MapShape, node: FormNode, path: string): Record<string, unknown> | undefined {
    if (node.children.size === 0) return node.value === '' ? {} : this.wrongType(path, 'map', node.value ?? '');
    const inner = this.container(node, shape.flattened === true, 'entry', path);
    if (!inner) return undefined;
    const out: Record<string, unknown> = {};
    const keyName = shape.key.locationName ?? 'key';
    const valueName = shape.value.locationName ?? 'value';
    for (const entry of this.numbered(inner, path)) {
      const key = entry.children.get(keyName)?.value;
      const value = entry.children.get(valueName);
      if (key === undefined) {
        this.problems.push({ path, kind: 'type', message: typeMessage(path, 'map', undefined, `an entry without '${keyName}'`) });
        continue;
      }
      const v = value === undefined ? undefined : this.convert(shape.value.shape, value, `${path}.${key}`);
      if (v !== undefined) out[key] = v;
    }
    return out;
  }
}

/**
 * Types the form parameters of a Query-protocol request (`Action` and `Version` ignored) into the input
 * of `operationName`, then validates it. `problems` holds both parsing problems (unknown parameter,
 * unparseable number/boolean/timestamp) and constraint problems; the input holds whatever could be typed.
 * Throws only if the model has no such operation.
 */
export function parseQueryInput(
  model: ServiceModel,
  operationName: string,
  form: URLSearchParams,
): { input: Record<string, unknown>; problems: ValidationProblem[] } {
  const op = getOperation(model, operationName);
  const tree = buildTree(form);
  const typer = new Typer(model);
  let input: Record<string, unknown> = {};
  if (op.input) {
    const shape = getShape(model, op.input.shape);
    if (shape.type !== 'structure') throw new Error(`${operationName} input ${op.input.shape} is not a structure`);
    input = typer.structure(op.input.shape, shape, tree, '') ?? {};
  } else {
    for (const k of tree.children.keys()) typer.problems.push({ path: k, kind: 'unknown', message: unknownMessage(k, `${operationName}, which takes no input`, []) });
  }
  // A parameter that failed to parse is absent from `input`; don't report it a second time as missing.
  const reported = new Set([...typer.problems.map((p) => p.path), ...typer.unreadable]);
  const constraintProblems = op.input ? validateInput(model, operationName, input).filter((p) => !reported.has(p.path)) : [];
  return { input, problems: [...typer.problems, ...constraintProblems] };
}
