// Loads the botocore models shipped in `<package root>/models/`. The package root is found by walking up
// from this file to the nearest package.json, so the same code works from `src/` under tsx and from any
// compiled layout under `dist/` — no fixed `../../..` depth to keep in sync with tsconfig's rootDir.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Operation, Paginator, ServiceModel, ServiceName, Shape, Waiter } from './types.js';

const MODEL_FILES: Record<ServiceName, string> = {
  ecr: 'ecr-2015-09-21',
  'ecr-public': 'ecr-public-2020-10-30',
  iam: 'iam-2010-05-08',
  sts: 'sts-2011-06-15',
  kms: 'kms-2014-11-01',
};

let modelsDir: string | undefined;

/** Absolute path of the `models/` directory next to the nearest package.json above this file. */
export function modelsDirectory(): string {
  if (modelsDir !== undefined) return modelsDir;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'models'))) {
      modelsDir = join(dir, 'models');
      return modelsDir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`berth: no models/ directory found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

// Docs are ~60% of the IAM/KMS model bytes and nothing at runtime reads them. No model has a member or
// shape literally named "documentation" (checked by a test), so dropping the key everywhere is safe.
const dropDocs = (key: string, value: unknown): unknown =>
  key === 'documentation' || key === 'documentationUrl' || key === 'examples' ? undefined : value;

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(join(modelsDirectory(), file), 'utf8'), dropDocs) as unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const models = new Map<ServiceName, ServiceModel>();

/**
 * The service model for `name`, parsed from `models/<file>.json` on first use and cached for the process.
 * Documentation is stripped. Throws if the file is missing or is not a botocore model.
 */
export function loadServiceModel(name: ServiceName): ServiceModel {
  const cached = models.get(name);
  if (cached) return cached;
  const raw = readJson(`${MODEL_FILES[name]}.json`);
  if (!isRecord(raw) || !isRecord(raw.metadata) || !isRecord(raw.operations) || !isRecord(raw.shapes)) {
    throw new Error(`berth: models/${MODEL_FILES[name]}.json is not a botocore service model`);
  }
  const model = raw as unknown as ServiceModel;
  models.set(name, model);
  return model;
}

const paginators = new Map<ServiceName, Record<string, Paginator>>();
const waiters = new Map<ServiceName, Record<string, Waiter>>();

/** Paginators of a service (`{}` when berth ships none for it), parsed once. */
export function loadPaginators(name: ServiceName): Record<string, Paginator> {
  let p = paginators.get(name);
  if (!p) {
    const file = `${MODEL_FILES[name]}.paginators.json`;
    const raw = existsSync(join(modelsDirectory(), file)) ? readJson(file) : { pagination: {} };
    p = isRecord(raw) && isRecord(raw.pagination) ? (raw.pagination as Record<string, Paginator>) : {};
    paginators.set(name, p);
  }
  return p;
}

/** Waiters of a service (`{}` when berth ships none for it), parsed once. */
export function loadWaiters(name: ServiceName): Record<string, Waiter> {
  let w = waiters.get(name);
  if (!w) {
    const file = `${MODEL_FILES[name]}.waiters.json`;
    const raw = existsSync(join(modelsDirectory(), file)) ? readJson(file) : { waiters: {} };
    w = isRecord(raw) && isRecord(raw.waiters) ? (raw.waiters as Record<string, Waiter>) : {};
    waiters.set(name, w);
  }
  return w;
}

/** The named shape. Throws if the model has no such shape (a model/handler mismatch, not a client error). */
export function getShape(model: ServiceModel, name: string): Shape {
  const shape = Object.hasOwn(model.shapes, name) ? model.shapes[name] : undefined;
  if (!shape) throw new Error(`${model.metadata.serviceId} model has no shape ${name}`);
  return shape;
}

/** The named operation. Throws if the model has no such operation. */
export function getOperation(model: ServiceModel, name: string): Operation {
  const op = Object.hasOwn(model.operations, name) ? model.operations[name] : undefined;
  if (!op) throw new Error(`${model.metadata.serviceId} model has no operation ${name}`);
  return op;
}
