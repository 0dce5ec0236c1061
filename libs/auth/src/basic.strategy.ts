import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { BasicStrategy as PassportBasicStrategy } from 'passport-http';
import { AuthenticatedUser } from './authenticated-user';
import { RbacService } from './rbac.service';

export const BASIC_STRATEGY = 'basic';

@Injectable()
export class BasicStrategy extends PassportStrategy(PassportBasicStrategy, BASIC_STRATEGY) {
  constructor(private readonly rbac: RbacService) {
    super();
  }

  validate(username: string, password: string): AuthenticatedUser | false {
    return this.rbac.authenticate(username, password) ?? false;
  }
}
