/**
 * Generators for the reference pages that must never drift from the code: docs/configuration.md
 * (from the config schema, the environment map and the serve flags) and docs/api-coverage.md
 * (every operation of each AWS service model against the operations berth registers). `npm run docs`
 * writes them; test/unit/docs.test.ts fails when a committed page differs from what these return.
 */
import { ENV } from '../src/config/load.js';
import { configSchema, DESCRIPTIONS } from '../src/config/schema.js';
import { SERVE_FLAGS } from '../src/cli/flags.js';
import { loadServiceModel } from '../src/http/aws/model/load.js';
import type { ServiceName } from '../src/http/aws/model/types.js';
import { implementedOperations } from '../src/http/aws/implemented.js';

interface JsonSchema {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeOf(s: JsonSchema): string {
  if (s.anyOf) return s.anyOf.map(typeOf).join(' or ');
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(', ');
  const [lo, hi] = [s.minimum, s.maximum];
  const range = lo !== undefined || hi !== undefined ? ` (${lo ?? ''}–${hi ?? ''})` : '';
  return `${s.type === 'integer' ? 'integer' : s.type ?? 'any'}${range}`;
}

function rows(props: Record<string, JsonSchema>, prefix: string[]): string[] {
  const out: string[] = [];
  for (const [key, s] of Object.entries(props)) {
    const path = [...prefix, key];
    if (s.type === 'object' && s.properties) {
      out.push(...rows(s.properties, path));
      continue;
    }
    const dotted = path.join('.');
    const env = ENV.filter(([, p]) => p.join('.') === dotted).map(([name]) => `\`${name}\``).join(' ');
    const flag = SERVE_FLAGS[dotted] ? `\`${SERVE_FLAGS[dotted]}\`` : '';
    const def = s.default === undefined ? '—' : `\`${JSON.stringify(s.default)}\``;
    out.push(`| \`${dotted}\` | ${cell(typeOf(s))} | ${def} | ${env || '—'} | ${flag || '—'} | ${cell(s.description ?? '')} |`);
  }
  return out;
}

/** The parts of a valibot schema (its plain-object form) this page shows. */
interface SchemaNode {
  type: string;
  wrapped?: SchemaNode;
  default?: unknown;
  entries?: Record<string, SchemaNode>;
  options?: unknown[];
  literal?: unknown;
  pipe?: { type: string; requirement?: unknown }[];
}

/** A config schema node as the table reads it (the subset of JSON Schema it prints). */
function describeNode(node: SchemaNode): JsonSchema {
  const description = DESCRIPTIONS.get(node);
  const own: JsonSchema = description === undefined ? {} : { description };
  const requirement = (type: string) => node.pipe?.find((a) => a.type === type)?.requirement as number | undefined;
  switch (node.type) {
    case 'optional':
      return { ...describeNode(node.wrapped!), ...(node.default === undefined ? {} : { default: node.default }), ...own };
    case 'object':
    case 'strict_object':
      return { type: 'object', properties: Object.fromEntries(Object.entries(node.entries!).map(([k, n]) => [k, describeNode(n)])), ...own };
    case 'record':
      return { type: 'object', ...own };
    case 'picklist':
      return { enum: node.options!, ...own };
    case 'literal':
      return { const: node.literal, ...own };
    case 'union':
      return { anyOf: (node.options as SchemaNode[]).map(describeNode), ...own };
    case 'number': {
      const integer = node.pipe?.some((a) => a.type === 'safe_integer' || a.type === 'integer') ?? false;
      const [minimum, maximum] = [requirement('min_value'), requirement('max_value')];
      return { type: integer ? 'integer' : 'number', ...(minimum === undefined ? {} : { minimum }), ...(maximum === undefined ? {} : { maximum }), ...own };
    }
    case 'string':
    case 'boolean':
      return { type: node.type, ...own };
    default:
      throw new Error(`docs: config schema node of type ${node.type} is not described (scripts/docs.ts)`);
  }
}

export function configurationDoc(): string {
  const schema = describeNode(configSchema as unknown as SchemaNode);
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs`; a test fails when this file is not current. Do not edit by hand. -->',
    '',
    'berth reads its configuration in layers: **defaults < YAML file (`--config FILE`) < environment < flags**. Every field',
    'has a default, so an empty file is valid. The result is validated once at start (every bad field is named at once;',
    '`berth verify-config --config FILE` checks a file without starting), frozen, and logged with secrets redacted.',
    '',
    '| key (YAML path) | type | default | environment | `berth serve` flag | meaning |',
    '|---|---|---|---|---|---|',
    ...rows(schema.properties ?? {}, []),
    '',
    'Nested keys are written nested in YAML, for example:',
    '',
    '```yaml',
    'listen: 0.0.0.0:5000',
    'publicUrl: https://registry.example.com',
    'tls:',
    '  certFile: /etc/berth/server.crt',
    '  keyFile: /etc/berth/server.key',
    'log:',
    '  format: json',
    '```',
    '',
    'Variables that are not configuration fields: `BERTH_MASTER_KEY` (base64 of 32 bytes; else `<dataDir>/master.key` is',
    'created), `BERTH_ROOT_ACCESS_KEY_ID` / `BERTH_ROOT_SECRET_ACCESS_KEY` (preset the default account\'s root key). See',
    '[security.md](security.md).',
    '',
  ].join('\n');
}

const SERVICES: { name: ServiceName; title: string; cli: string }[] = [
  { name: 'ecr', title: 'Amazon ECR', cli: 'aws ecr' },
  { name: 'ecr-public', title: 'Amazon ECR Public', cli: 'aws ecr-public' },
  { name: 'iam', title: 'IAM', cli: 'aws iam' },
  { name: 'sts', title: 'STS', cli: 'aws sts' },
  { name: 'kms', title: 'KMS', cli: 'aws kms' },
];

export function apiCoverageDoc(): string {
  const implemented = implementedOperations();
  const summary: string[] = [];
  const sections: string[] = [];
  for (const svc of SERVICES) {
    const model = loadServiceModel(svc.name);
    const all = Object.keys(model.operations).sort();
    const have = new Set(implemented[svc.name] ?? []);
    const done = all.filter((op) => have.has(op));
    summary.push(`| ${svc.title} (\`${svc.cli}\`) | ${done.length} | ${all.length} |`);
    sections.push(`## ${svc.title}`, '', `${done.length} of ${all.length} operations.`, '', '| operation | berth |', '|---|---|');
    for (const op of all) sections.push(`| \`${op}\` | ${have.has(op) ? 'yes' : 'not yet'} |`);
    sections.push('');
  }
  return [
    '# AWS API coverage',
    '',
    '<!-- Generated from the service models in models/ and the operations berth registers (`npm run docs`); a test fails when this file is not current. Do not edit by hand. -->',
    '',
    'Every operation of each service model, and whether berth implements it. An operation marked "not yet" answers',
    'with an error naming it (`berth does not implement <service> operation <Name> yet`), never a silent success.',
    '',
    '| service | implemented | operations in the model |',
    '|---|---|---|',
    ...summary,
    '',
    ...sections,
  ].join('\n');
}
