import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { BASIC_STRATEGY } from './basic.strategy';
import { IS_PUBLIC } from './public.decorator';

/**
 * Global guard: every route needs HTTP Basic credentials (the passport strategy) unless marked
 * @Public(). Wrong credentials answer 401 (the exception filter adds the Basic challenge); too many
 * of them from one place answer 429 with Retry-After before the slow password check runs (the
 * strategy throttles, with the credentials passport-http parsed).
 */
@Injectable()
export class BasicAuthGuard extends AuthGuard(BASIC_STRATEGY) {
  constructor(private readonly reflector: Reflector) {
    super({ session: false });
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    await super.canActivate(context);
    return true;
  }
}
