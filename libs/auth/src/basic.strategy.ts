import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { createHash } from 'node:crypto';
import { BasicStrategy as PassportBasicStrategy } from 'passport-http';
import { AuthenticatedUser } from './authenticated-user';
import { LoginThrottle, loginAddress, tooManyFailedLogins } from './login-throttle';
import { RbacService } from './rbac.service';

export const BASIC_STRATEGY = 'basic';

/**
 * HTTP Basic through passport-http. It splits the decoded credentials at every colon, so
 * passwords cannot contain one: rbac.json and `npm run hash-password` refuse such passwords.
 *
 * The login throttle counts here, in the verify callback, with the very user name passport-http
 * parsed from the header, and nowhere else: passport-http's parser is lenient (any case of the
 * scheme, junk after the token), and a second parser for the throttle would let every header the
 * two read differently guess passwords uncounted. Headers passport-http refuses never reach a
 * password check; they answer 401.
 *
 * Identical logins in parallel (one client's burst of requests, e.g. after its cached login
 * expired) count as one attempt and share its answer: otherwise a burst of right passwords would
 * trip the throttle. Parallel guesses differ in their password, so each still counts.
 */
@Injectable()
export class BasicStrategy extends PassportStrategy(PassportBasicStrategy, BASIC_STRATEGY) {
  constructor(
    private readonly rbac: RbacService,
    private readonly throttle: LoginThrottle,
  ) {
    super({ passReqToCallback: true });
  }

  /** Checks under way, by a digest of address, user and password (no password kept as such). */
  private readonly inFlight = new Map<string, Promise<AuthenticatedUser | null>>();

  async validate(request: Request, username: string, password: string): Promise<AuthenticatedUser | false> {
    const address = loginAddress(request);
    const key = createHash('sha256').update(`${address}\0${username}\0${password}`).digest('base64');
    const pending = this.inFlight.get(key);
    if (pending) return (await pending) ?? false;
    // Before the slow password check, and counted at once, so parallel guesses cannot slip through.
    const waitMs = this.throttle.attempt(username, address);
    if (waitMs > 0) throw tooManyFailedLogins(request, waitMs);
    const check = this.rbac
      .authenticate(username, password)
      .then((user) => {
        if (user) this.throttle.succeeded(username, address);
        return user;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, check);
    return (await check) ?? false;
  }
}
