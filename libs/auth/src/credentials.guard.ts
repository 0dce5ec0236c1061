import { ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { ApiTokenScope } from '@flansible/contracts';
import { REQUIRED_SCOPE, requiredScope, scopeRefusal } from './api-token-scope';
import { AuthenticatedUser } from './authenticated-user';
import { BASIC_STRATEGY } from './basic.strategy';
import { BEARER_STRATEGY } from './bearer.strategy';
import { IS_PUBLIC } from './public.decorator';

/**
 * Global guard: every route needs HTTP Basic credentials or an API token (`Authorization: Bearer`),
 * each a passport strategy, unless marked @Public(). Wrong credentials answer 401 (the exception
 * filter adds the challenges); too many of them from one place answer 429 with Retry-After (the
 * strategies throttle). A token's scope is checked here too: a `read` token gets 403 on a route
 * that needs `run` (api-token-scope.ts).
 */
@Injectable()
export class CredentialsGuard extends AuthGuard([BASIC_STRATEGY, BEARER_STRATEGY]) {
  constructor(private readonly reflector: Reflector) {
    super({ session: false });
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    await super.canActivate(context);
    const request = context.switchToHttp().getRequest<Request & { user: AuthenticatedUser }>();
    const required = requiredScope(request.method, this.reflector.getAllAndOverride<ApiTokenScope | undefined>(REQUIRED_SCOPE, targets));
    const refusal = scopeRefusal(request.user, required, `${request.method} ${request.path}`);
    if (refusal) throw new ForbiddenException(refusal);
    return true;
  }
}
