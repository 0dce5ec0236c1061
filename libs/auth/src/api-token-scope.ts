import { SetMetadata } from '@nestjs/common';
import { ApiTokenScope } from '@flansible/contracts';
import { AuthenticatedUser } from './authenticated-user';

export const REQUIRED_SCOPE = 'flansible:required-scope';

/**
 * The API token scope a route needs. Mark every route that changes something (submits, cancels,
 * relaunches, updates git, issues or revokes tokens) with `@RequiresScope('run')`; the global
 * guard refuses `read` tokens there with 403. Password logins are not narrowed by any scope.
 */
export const RequiresScope = (scope: ApiTokenScope) => SetMetadata(REQUIRED_SCOPE, scope);

/** Methods that change nothing (RFC 9110 "safe"): a `read` token may use them. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The scope a request needs: what its route declares with @RequiresScope, else `read` for safe
 * methods and `run` for any other, so a route that changes something and forgot the decorator is
 * still closed to `read` tokens.
 */
export function requiredScope(method: string, declared: ApiTokenScope | undefined): ApiTokenScope {
  return declared ?? (SAFE_METHODS.has(method.toUpperCase()) ? ApiTokenScope.Read : ApiTokenScope.Run);
}

/** Scopes from the narrowest: each allows what those before it do, and more. */
const SCOPE_ORDER: readonly ApiTokenScope[] = [ApiTokenScope.Read, ApiTokenScope.Run];

/** Null when the user may make a request that needs `required` (e.g. `POST /api/v1/jobs/command`), else the 403 message. */
export function scopeRefusal(user: AuthenticatedUser, required: ApiTokenScope, action: string): string | null {
  const scope = user.token?.scope;
  if (scope === undefined || SCOPE_ORDER.indexOf(scope) >= SCOPE_ORDER.indexOf(required)) return null;
  return `This API token has scope "${scope}": ${action} needs a token with scope "${required}"`;
}
