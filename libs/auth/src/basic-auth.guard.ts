import { ExecutionContext, HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request, Response } from 'express';
import { parseBasicAuthorization } from './basic-credentials';
import { BASIC_STRATEGY } from './basic.strategy';
import { LoginThrottle } from './login-throttle';
import { IS_PUBLIC } from './public.decorator';

/**
 * Global guard: every route needs HTTP Basic credentials (the passport strategy) unless marked
 * @Public(). Wrong credentials answer 401 (the exception filter adds the Basic challenge); too many
 * of them from one place answer 429 with Retry-After before the slow password check runs.
 */
@Injectable()
export class BasicAuthGuard extends AuthGuard(BASIC_STRATEGY) {
  constructor(
    private readonly reflector: Reflector,
    private readonly throttle: LoginThrottle,
  ) {
    super({ session: false });
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const credentials = parseBasicAuthorization(request.headers.authorization);
    // req.ip follows Express's "trust proxy" setting when the gateway sits behind a proxy.
    const address = request.ip ?? request.socket.remoteAddress ?? 'unknown';
    if (credentials) {
      const waitMs = this.throttle.attempt(credentials.user, address);
      if (waitMs > 0) {
        const seconds = Math.max(1, Math.ceil(waitMs / 1000));
        http.getResponse<Response>().setHeader('Retry-After', String(seconds));
        throw new HttpException(`Too many failed logins; try again in ${seconds} s`, HttpStatus.TOO_MANY_REQUESTS);
      }
    }
    await super.canActivate(context);
    if (credentials) this.throttle.succeeded(credentials.user, address);
    return true;
  }
}
