/**
 * Which actions an ECR registry policy may name. ECR's REGISTRY_POLICY_SCOPE account setting decides
 * (Amazon ECR User Guide, "Private registry permissions"):
 *   - V1: ECR enforces only `ecr:ReplicateImage`, `ecr:BatchImportUpstreamImage` and `ecr:CreateRepository`
 *     at the registry level (replication, pull-through cache, repository creation) and refuses a policy
 *     naming any other action ("Invalid registry policy provided"); `ecr:*` may still be written.
 *   - V2: every ECR action may be granted at the registry level — but only ECR actions.
 * berth defaults to V1: issue 6 (finding 12) records that ECR refuses registry policies naming other
 * actions for a registry that never chose a scope, and that is what clients were seen to meet; an account
 * opts into V2 with `PutAccountSetting REGISTRY_POLICY_SCOPE=V2`.
 */
export type RegistryPolicyScope = 'V1' | 'V2';

/** The setting's value when the account never set it, as on ECR. */
export const DEFAULT_REGISTRY_POLICY_SCOPE: RegistryPolicyScope = 'V1';

const V1_ACTIONS = new Set(['ecr:replicateimage', 'ecr:batchimportupstreamimage', 'ecr:createrepository', 'ecr:*']);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The actions of a (grammatically valid) registry policy that `scope` does not allow, each as a sentence;
 * empty when all are allowed. Action names compare case-insensitively, as IAM's do.
 */
export function registryPolicyActionProblems(text: string, scope: RegistryPolicyScope): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return [];
  }
  if (!isRecord(doc)) return [];
  const statements = Array.isArray(doc.Statement) ? (doc.Statement as unknown[]) : [doc.Statement];
  const problems: string[] = [];
  statements.forEach((s, i) => {
    if (!isRecord(s)) return;
    if (s.NotAction !== undefined && scope === 'V1') {
      problems.push(`Statement[${i}] may not use NotAction: the V1 registry policy scope allows only ${[...V1_ACTIONS].slice(0, 3).join(', ')}`);
    }
    const actions = [s.Action, s.NotAction].flatMap((a) => (typeof a === 'string' ? [a] : Array.isArray(a) ? a.filter((x): x is string => typeof x === 'string') : []));
    for (const action of actions) {
      const lower = action.toLowerCase();
      if (!lower.startsWith('ecr:')) problems.push(`Statement[${i}] names ${JSON.stringify(action)}: a registry policy grants only ECR actions`);
      else if (scope === 'V1' && !V1_ACTIONS.has(lower)) {
        problems.push(`Statement[${i}] names ${JSON.stringify(action)}: the V1 registry policy scope allows only ecr:ReplicateImage, ecr:BatchImportUpstreamImage, ecr:CreateRepository`);
      }
    }
  });
  return problems;
}
