import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { WorkspaceModule } from '@flansible/workspace';
import { BasicAuthGuard } from './basic-auth.guard';
import { BasicStrategy } from './basic.strategy';
import { JobPolicyService } from './job-policy.service';
import { LoginThrottle } from './login-throttle';
import { RbacService } from './rbac.service';

@Module({
  imports: [PassportModule, WorkspaceModule],
  providers: [RbacService, BasicStrategy, LoginThrottle, JobPolicyService, { provide: APP_GUARD, useClass: BasicAuthGuard }],
  exports: [RbacService, JobPolicyService],
})
export class AuthModule {}
