import { Injectable, Logger, Optional, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy as CustomStrategy } from 'passport-custom';
import { Clock, SYSTEM_CLOCK } from '@flansible/config';
import { ApiTokenStore } from '@flansible/store';
import { apiTokenMatches, bearerCredentials, hashApiToken, isApiTokenFormat } from './api-token';
import { AuthenticatedUser } from './authenticated-user';
import { LoginThrottle, loginAddress, tooManyFailedLogins } from './login-throttle';
import { RbacService } from './rbac.service';

export const BEARER_STRATEGY = 'bearer';

/** `last_used_at` is kept to this precision: at most one write per token per minute. */
export const TOKEN_USE_PRECISION_MS = 60_000;

/**
 * `Authorization: Bearer flt_...` through passport-custom: the header alone is read (never a query
 * parameter or a body field, which end up in logs), and the token is looked up in the store by its
 * hash on every request, so a token revoked through any gateway, or one past its expiry, is refused
 * by every gateway at once. It acts as its user as rbac.json says now (a user removed from the file
 * has no tokens left), narrowed by its scope (the guard's check, api-token-scope.ts).
 *
 * Failures count towards the login throttle for the address, and for the address with the token
 * presented (its hash's first characters, as a pseudo-user no Basic login can name: passport-http
 * splits at colons, and it has one), so a client repeating a revoked token is slowed without blocking every other token
 * from the same address. Only failures count: a token check is one indexed read, so there is no
 * slow check for parallel guesses to slip through, and a burst of good requests counts nothing.
 */
@Injectable()
export class BearerStrategy extends PassportStrategy(CustomStrategy, BEARER_STRATEGY) {
  private readonly logger = new Logger(BearerStrategy.name);

  constructor(
    private readonly tokens: ApiTokenStore,
    private readonly rbac: RbacService,
    private readonly throttle: LoginThrottle,
    @Optional() private readonly clock: Clock = SYSTEM_CLOCK,
  ) {
    super();
  }

  /** False for a request without a Bearer header (another strategy's, or none); throws 401 or 429 for a bad one. */
  async validate(request: Request): Promise<AuthenticatedUser | false> {
    const presented = bearerCredentials(request.headers.authorization);
    if (presented === undefined) return false;
    const address = loginAddress(request);
    const pseudoUser = `bearer:${hashApiToken(presented).slice(0, 16)}`;
    const waitMs = this.throttle.blockedFor(pseudoUser, address);
    if (waitMs > 0) throw tooManyFailedLogins(request, waitMs);
    const outcome = await this.check(presented);
    if (typeof outcome === 'string') {
      this.throttle.failed(pseudoUser, address);
      throw new UnauthorizedException(outcome);
    }
    return outcome;
  }

  /** The token's user, or why it is refused. */
  private async check(presented: string): Promise<AuthenticatedUser | string> {
    if (!isApiTokenFormat(presented)) return 'Malformed bearer token: an API token is flt_ followed by 43 characters';
    const record = await this.tokens.findApiTokenByHash(hashApiToken(presented));
    if (!record || !apiTokenMatches(record.secretHash, presented)) return 'Unknown or revoked API token';
    const now = this.clock.now();
    if (record.expiresAt.getTime() <= now) return `API token expired at ${record.expiresAt.toISOString()}`;
    const user = this.rbac.userNamed(record.user);
    if (!user) return `API token of a user no longer in rbac.json (${record.user})`;
    if (!record.lastUsedAt || record.lastUsedAt.getTime() < now - TOKEN_USE_PRECISION_MS) {
      await this.tokens
        .recordApiTokenUse(record.id, new Date(now), new Date(now - TOKEN_USE_PRECISION_MS))
        .catch((err: Error) => this.logger.warn(`Could not record the use of API token ${record.id}: ${err.message}`));
    }
    return { ...user, token: { id: record.id, scope: record.scope } };
  }
}
