import { Module } from '@nestjs/common';
import { RightsModule } from '@flansible/auth';
import { LocalHostExposureAudit } from './local-host-exposure.audit';

/** Start-up checks of the access configuration that an operator should hear about. */
@Module({
  imports: [RightsModule],
  providers: [LocalHostExposureAudit],
})
export class SecurityAuditModule {}
