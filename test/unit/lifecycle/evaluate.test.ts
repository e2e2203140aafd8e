/**
 * Table tests of the lifecycle evaluator, built from every example of ECR's user guide
 * ("Examples of lifecycle policies": image age, image count, multiple rules A/B, multiple tags in
 * one rule A/B with prefixes and with patterns, all images A/B), plus the semantics the guide states
 * in prose (pull time, archive transitions, storage classes, pattern wildcards).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LifecycleImage } from '../../../src/core/lifecycle.js';
import type { Digest } from '../../../src/core/digest.js';
import { evaluateLifecycle } from '../../../src/lifecycle/evaluate.js';
import { parseLifecyclePolicy } from '../../../src/lifecycle/policy.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Img { name: string; tags: string[]; ageHours: number; pulledHoursAgo?: number; archivedHoursAgo?: number; archived?: boolean }
const digestOf = (name: string): Digest => `sha256:${name.padEnd(64, '0')}` as Digest;

function images(list: Img[]): LifecycleImage[] {
  return list.map((i) => ({
    digest: digestOf(i.name.toLowerCase().replace(/[^a-f0-9]/g, 'f')), tags: i.tags, pushedAt: new Date(NOW.getTime() - i.ageHours * HOUR),
    storageClass: i.archived ? 'ARCHIVE' : 'STANDARD',
    ...(i.pulledHoursAgo !== undefined ? { lastPulledAt: new Date(NOW.getTime() - i.pulledHoursAgo * HOUR) } : {}),
    ...(i.archivedHoursAgo !== undefined ? { lastArchivedAt: new Date(NOW.getTime() - i.archivedHoursAgo * HOUR) } : {}),
  }));
}

type RuleSpec = Record<string, unknown>;
const rule = (rulePriority: number, selection: RuleSpec, action: RuleSpec = { type: 'expire' }) => ({ rulePriority, description: `Rule ${rulePriority}`, selection, action });

interface Case { name: string; repo: Img[]; rules: ReturnType<typeof rule>[]; expect: string[]; transitions?: string[] }

/** Images named A..F map to distinct digests; expectations list names. */
function run(c: Case): { expired: string[]; transitioned: string[] } {
  const imgs = images(c.repo);
  const byDigest = new Map(imgs.map((img, i) => [img.digest, c.repo[i]!.name]));
  const actions = evaluateLifecycle(parseLifecyclePolicy(JSON.stringify({ rules: c.rules })), imgs, NOW);
  const names = (type: string) => actions.filter((a) => a.type === type).map((a) => byDigest.get(a.digest)!).sort();
  return { expired: names('EXPIRE'), transitioned: names('TRANSITION') };
}

const examplesAB: Img[] = [
  { name: 'A', tags: ['beta-1', 'prod-1'], ageHours: 10 * 24 },
  { name: 'B', tags: ['beta-2', 'prod-2'], ageHours: 9 * 24 },
  { name: 'C', tags: ['beta-3'], ageHours: 8 * 24 },
];
const multiTagsA: Img[] = [
  { name: 'A', tags: ['alpha-1'], ageHours: 12 * 24 },
  { name: 'B', tags: ['beta-1'], ageHours: 11 * 24 },
  { name: 'C', tags: ['alpha-2', 'beta-2'], ageHours: 10 * 24 },
  { name: 'D', tags: ['alpha-3'], ageHours: 4 * 24 },
  { name: 'E', tags: ['beta-3'], ageHours: 3 * 24 },
  { name: 'F', tags: ['alpha-4', 'beta-4'], ageHours: 2 * 24 },
];
const multiTagsB: Img[] = [
  { name: 'A', tags: ['alpha-1', 'beta-1', 'gamma-1'], ageHours: 10 * 24 },
  { name: 'B', tags: ['alpha-2', 'beta-2'], ageHours: 9 * 24 },
  { name: 'C', tags: ['alpha-3', 'beta-3', 'gamma-2'], ageHours: 8 * 24 },
];

const CASES: Case[] = [
  {
    name: 'filtering on image age: prod* tagged images older than 14 days expire',
    repo: [{ name: 'A', tags: ['prod-1'], ageHours: 15 * 24 }, { name: 'B', tags: ['prod-2'], ageHours: 13 * 24 }, { name: 'C', tags: ['dev'], ageHours: 30 * 24 }, { name: 'D', tags: [], ageHours: 30 * 24 }],
    rules: [rule(1, { tagStatus: 'tagged', tagPatternList: ['prod*'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 })],
    expect: ['A'],
  },
  {
    name: 'filtering on image age (older guide): untagged images older than 14 days expire',
    repo: [{ name: 'A', tags: [], ageHours: 15 * 24 }, { name: 'B', tags: [], ageHours: 13 * 24 }, { name: 'C', tags: ['x'], ageHours: 30 * 24 }],
    rules: [rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 })],
    expect: ['A'],
  },
  {
    name: 'filtering on image count: keep only one untagged image',
    repo: [{ name: 'A', tags: [], ageHours: 3 }, { name: 'B', tags: [], ageHours: 2 }, { name: 'C', tags: [], ageHours: 1 }, { name: 'D', tags: ['t'], ageHours: 9 }],
    rules: [rule(1, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 })],
    expect: ['A', 'B'],
  },
  {
    name: 'multiple rules, example A: prod first keeps B from being expired by the beta rule',
    repo: examplesAB,
    rules: [
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['prod'], countType: 'imageCountMoreThan', countNumber: 1 }),
      rule(2, { tagStatus: 'tagged', tagPrefixList: ['beta'], countType: 'imageCountMoreThan', countNumber: 1 }),
    ],
    expect: ['A'],
  },
  {
    name: 'multiple rules, example A with tagPatternList',
    repo: examplesAB,
    rules: [
      rule(1, { tagStatus: 'tagged', tagPatternList: ['prod*'], countType: 'imageCountMoreThan', countNumber: 1 }),
      rule(2, { tagStatus: 'tagged', tagPatternList: ['beta*'], countType: 'imageCountMoreThan', countNumber: 1 }),
    ],
    expect: ['A'],
  },
  {
    name: 'multiple rules, example B: beta first expires A and B, prod sees nothing new',
    repo: examplesAB,
    rules: [
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['beta'], countType: 'imageCountMoreThan', countNumber: 1 }),
      rule(2, { tagStatus: 'tagged', tagPrefixList: ['prod'], countType: 'imageCountMoreThan', countNumber: 1 }),
    ],
    expect: ['A', 'B'],
  },
  {
    name: 'multiple tags in one rule, example A: only images with both alpha and beta, older than 5 days',
    repo: multiTagsA,
    rules: [rule(1, { tagStatus: 'tagged', tagPrefixList: ['alpha', 'beta'], countType: 'sinceImagePushed', countNumber: 5, countUnit: 'days' })],
    expect: ['C'],
  },
  {
    name: 'multiple tags in one rule, example A with patterns alpha* and beta*',
    repo: multiTagsA,
    rules: [rule(1, { tagStatus: 'tagged', tagPatternList: ['alpha*', 'beta*'], countType: 'sinceImagePushed', countNumber: 5, countUnit: 'days' })],
    expect: ['C'],
  },
  {
    name: 'multiple tags in one rule, example B: tags are not exclusive, keep the newest one',
    repo: multiTagsB,
    rules: [rule(1, { tagStatus: 'tagged', tagPrefixList: ['alpha', 'beta'], countType: 'imageCountMoreThan', countNumber: 1 })],
    expect: ['A', 'B'],
  },
  {
    name: 'multiple tags in one rule, example B with patterns',
    repo: multiTagsB,
    rules: [rule(1, { tagStatus: 'tagged', tagPatternList: ['alpha*', 'beta*'], countType: 'imageCountMoreThan', countNumber: 1 })],
    expect: ['A', 'B'],
  },
  {
    name: 'all images, example A: tagStatus any keeps only the newest image',
    repo: [{ name: 'A', tags: ['alpha-1'], ageHours: 4 * 24 }, { name: 'B', tags: ['beta-1'], ageHours: 3 * 24 }, { name: 'C', tags: [], ageHours: 2 * 24 }, { name: 'D', tags: ['alpha-2'], ageHours: 24 }],
    rules: [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 })],
    expect: ['A', 'B', 'C'],
  },
  {
    name: 'all images, example B: tagged, untagged and any rules combined expire A, B and D',
    repo: [
      { name: 'A', tags: ['alpha-1', 'beta-1'], ageHours: 4 * 24 },
      { name: 'B', tags: [], ageHours: 3 * 24 },
      { name: 'C', tags: ['alpha-2'], ageHours: 2 * 24 },
      { name: 'D', tags: ['git hash'], ageHours: 24 - 2 },
      { name: 'E', tags: [], ageHours: 24 - 3 },
    ],
    rules: [
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['alpha'], countType: 'imageCountMoreThan', countNumber: 1 }),
      rule(2, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 }),
      rule(3, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }),
    ],
    expect: ['A', 'B', 'D'],
  },
  {
    name: 'an image with several tags matches a tagged rule when any one tag matches',
    repo: [{ name: 'A', tags: ['latest', 'release-1'], ageHours: 50 * 24 }, { name: 'B', tags: ['latest-x'], ageHours: 50 * 24 }],
    rules: [rule(1, { tagStatus: 'tagged', tagPatternList: ['release-*'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 })],
    expect: ['A'],
  },
  {
    name: 'a pattern must match the whole tag; * may match nothing; several * in one pattern',
    repo: [{ name: 'A', tags: ['v1-rc'], ageHours: 99 }, { name: 'B', tags: ['xv1-rc'], ageHours: 99 }, { name: 'C', tags: ['v1-rc-final'], ageHours: 99 }, { name: 'D', tags: ['v-rc'], ageHours: 99 }, { name: 'E', tags: ['v1.2-rc'], ageHours: 99 }],
    rules: [rule(1, { tagStatus: 'tagged', tagPatternList: ['v*-rc'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 })],
    expect: ['A', 'D', 'E'],
  },
  {
    name: 'untagged images are only matched by untagged or any rules, never by tagged ones',
    repo: [{ name: 'A', tags: [], ageHours: 99 * 24 }],
    rules: [rule(1, { tagStatus: 'tagged', tagPatternList: ['*'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 })],
    expect: [],
  },
  {
    name: 'sinceImagePulled uses the last recorded pull, or the push time of never-pulled images',
    repo: [{ name: 'A', tags: ['a'], ageHours: 90 * 24, pulledHoursAgo: 24 }, { name: 'B', tags: ['b'], ageHours: 90 * 24, pulledHoursAgo: 40 * 24 }, { name: 'C', tags: ['c'], ageHours: 90 * 24 }, { name: 'D', tags: ['d'], ageHours: 24 }],
    rules: [rule(1, { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 30 })],
    expect: ['B', 'C'],
  },
  {
    name: 'transition moves old standard images to archive; expire of archived images counts from the transition',
    repo: [
      { name: 'A', tags: ['a'], ageHours: 100 * 24 },
      { name: 'B', tags: ['b'], ageHours: 10 * 24 },
      { name: 'C', tags: ['c'], ageHours: 400 * 24, archived: true, archivedHoursAgo: 200 * 24 },
      { name: 'D', tags: ['d'], ageHours: 400 * 24, archived: true, archivedHoursAgo: 20 * 24 },
    ],
    rules: [
      rule(1, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }, { type: 'transition', targetStorageClass: 'archive' }),
      rule(2, { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 180 }),
    ],
    expect: ['C'],
    transitions: ['A'],
  },
  {
    name: 'rules of the standard class never touch archived images',
    repo: [{ name: 'A', tags: [], ageHours: 999 * 24, archived: true, archivedHoursAgo: 999 * 24 }, { name: 'B', tags: [], ageHours: 999 * 24 }],
    rules: [rule(1, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 })],
    expect: ['B'],
  },
  {
    name: 'imageCountMoreThan counts images identified by higher rules but never marks them',
    repo: [{ name: 'A', tags: ['keep-1'], ageHours: 5 }, { name: 'B', tags: ['x'], ageHours: 4 }, { name: 'C', tags: ['keep-2'], ageHours: 1 }],
    rules: [
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['keep'], countType: 'imageCountMoreThan', countNumber: 100 }),
      rule(2, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }),
    ],
    expect: ['B'],
  },
];

describe('lifecycle evaluator (ECR documentation examples)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const got = run(c);
      assert.deepEqual(got.expired, [...c.expect].sort());
      assert.deepEqual(got.transitioned, [...(c.transitions ?? [])].sort());
    });
  }

  it('acts on each image at most once and reports the rule that decided', () => {
    const imgs = images([{ name: 'A', tags: ['prod-1'], ageHours: 40 * 24 }, { name: 'B', tags: [], ageHours: 40 * 24 }]);
    const policy = parseLifecyclePolicy(JSON.stringify({ rules: [
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['prod'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }),
      rule(5, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }),
    ] }));
    const actions = evaluateLifecycle(policy, imgs, NOW);
    assert.deepEqual(actions.map((a) => [a.digest, a.rulePriority]), [[imgs[0]!.digest, 1], [imgs[1]!.digest, 5]]);
    assert.equal(new Set(actions.map((a) => a.digest)).size, actions.length);
  });

  it('is independent of input order and of the clock (same now, same answer)', () => {
    const imgs = images(multiTagsA);
    const policy = parseLifecyclePolicy(JSON.stringify({ rules: [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 2 })] }));
    const a = evaluateLifecycle(policy, imgs, NOW);
    const b = evaluateLifecycle(policy, [...imgs].reverse(), NOW);
    assert.deepEqual(a, b);
    assert.equal(a.length, 4);
    assert.ok(evaluateLifecycle(policy, imgs, new Date(NOW.getTime() + 1000 * DAY)).length === 4);
  });
});
