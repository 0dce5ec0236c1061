import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { BasicStrategy as PassportBasicStrategy } from 'passport-http';
import { AuthenticatedUser } from './authenticated-user';
import { RbacService } from './rbac.service';

export const BASIC_STRATEGY = 'basic';

/**
 * HTTP Basic through passport-http. It splits the decoded credentials at every colon, so
 * passwords cannot contain one: rbac.json and `npm run hash-password` refuse such passwords.
 */
@Injectable()
export class BasicStrategy extends PassportStrategy(PassportBasicStrategy, BASIC_STRATEGY) {
  constructor(private readonly rbac: RbacService) {
    super();
  }

  async validate(username: string, password: string): Promise<AuthenticatedUser | false> {
    return (await this.rbac.authenticate(username, password)) ?? false;
  }
}
