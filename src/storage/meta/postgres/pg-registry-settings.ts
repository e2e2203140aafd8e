import type { Db } from './pg-common.js';

/*
 * Registry-level state per account on PostgreSQL: the registry policy and ECR account settings.
 * Each function is one statement; upserts make two nodes' writes last-writer-wins, never an error.
 */

export async function getRegistryPolicy(db: Db, accountId: string): Promise<string | undefined> {
  return (await db.selectFrom('registry_policies').select('policy').where('account_id', '=', accountId).executeTakeFirst())?.policy;
}

export async function setRegistryPolicy(db: Db, accountId: string, policy: string | undefined): Promise<void> {
  if (policy === undefined) {
    await db.deleteFrom('registry_policies').where('account_id', '=', accountId).execute();
    return;
  }
  await db.insertInto('registry_policies').values({ account_id: accountId, policy })
    .onConflict((oc) => oc.column('account_id').doUpdateSet({ policy })).execute();
}

export async function getAccountSetting(db: Db, accountId: string, name: string): Promise<string | undefined> {
  return (await db.selectFrom('account_settings').select('value')
    .where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst())?.value;
}

export async function putAccountSetting(db: Db, accountId: string, name: string, value: string): Promise<void> {
  await db.insertInto('account_settings').values({ account_id: accountId, name, value })
    .onConflict((oc) => oc.columns(['account_id', 'name']).doUpdateSet({ value })).execute();
}
