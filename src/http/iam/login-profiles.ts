import type { LoginProfileService } from '../../core/services/console/login-profiles.js';
import type { AwsOperations } from '../aws/context.js';
import { op, optStr, str, targetUserResource, userResource } from './common.js';

const iso = (d: Date) => d;

/** CreateLoginProfile, GetLoginProfile, UpdateLoginProfile, DeleteLoginProfile, ChangePassword. */
export function loginProfileOperations(profiles: LoginProfileService): AwsOperations {
  return {
    CreateLoginProfile: op('CreateLoginProfile', targetUserResource, async (input, ctx) => {
      const userName = optStr(input, 'UserName') ?? ctx.principal.userName ?? '';
      const p = await profiles.create(ctx.principal.accountId, userName, str(input, 'Password'), input.PasswordResetRequired === true, ctx.signal);
      return { LoginProfile: { UserName: p.userName, CreateDate: iso(p.createdAt), PasswordResetRequired: p.passwordResetRequired } };
    }),
    GetLoginProfile: op('GetLoginProfile', targetUserResource, async (input, ctx) => {
      const userName = optStr(input, 'UserName') ?? ctx.principal.userName ?? '';
      const p = await profiles.get(ctx.principal.accountId, userName, ctx.signal);
      return { LoginProfile: { UserName: p.userName, CreateDate: iso(p.createdAt), PasswordResetRequired: p.passwordResetRequired } };
    }),
    UpdateLoginProfile: op('UpdateLoginProfile', (i, p) => userResource(p.accountId, str(i, 'UserName')), async (input, ctx) => {
      const reset = typeof input.PasswordResetRequired === 'boolean' ? input.PasswordResetRequired : undefined;
      await profiles.update(ctx.principal.accountId, str(input, 'UserName'), optStr(input, 'Password'), reset, ctx.signal);
      return {};
    }),
    DeleteLoginProfile: op('DeleteLoginProfile', targetUserResource, async (input, ctx) => {
      await profiles.delete(ctx.principal.accountId, optStr(input, 'UserName') ?? ctx.principal.userName ?? '', ctx.signal);
      return {};
    }),
    ChangePassword: op('ChangePassword', (_i, p) => p.arn, async (input, ctx) => {
      await profiles.change(ctx.principal.accountId, ctx.principal.userName ?? '', str(input, 'OldPassword'), str(input, 'NewPassword'), ctx.signal);
      return {};
    }),
  };
}
