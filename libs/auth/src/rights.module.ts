import { Module } from '@nestjs/common';
import { WorkspaceModule } from '@flansible/workspace';
import { JobPolicyService } from './job-policy.service';
import { JobStartAuthorizer } from './job-start-authorizer';
import { RbacService } from './rbac.service';

/**
 * Users and their rights from rbac.json, without the HTTP login: the gateway builds its
 * authentication on it (AuthModule), and the runner uses it to check a job again before it starts.
 */
@Module({
  imports: [WorkspaceModule],
  providers: [RbacService, JobPolicyService, JobStartAuthorizer],
  exports: [RbacService, JobPolicyService, JobStartAuthorizer],
})
export class RightsModule {}
