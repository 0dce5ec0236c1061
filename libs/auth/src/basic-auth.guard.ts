import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { BASIC_STRATEGY } from './basic.strategy';
import { IS_PUBLIC } from './public.decorator';

/** Global guard: every route needs HTTP Basic credentials unless marked @Public(). */
@Injectable()
export class BasicAuthGuard extends AuthGuard(BASIC_STRATEGY) {
  constructor(private readonly reflector: Reflector) {
    super({ session: false });
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    return isPublic ? true : super.canActivate(context);
  }
}
