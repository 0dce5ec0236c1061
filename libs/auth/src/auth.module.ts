import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { BasicAuthGuard } from './basic-auth.guard';
import { BasicStrategy } from './basic.strategy';
import { LoginThrottle } from './login-throttle';
import { RightsModule } from './rights.module';

/** The gateway's HTTP login (Basic auth on every route unless @Public) over the users of RightsModule. */
@Module({
  imports: [PassportModule, RightsModule],
  providers: [BasicStrategy, LoginThrottle, { provide: APP_GUARD, useClass: BasicAuthGuard }],
  exports: [RightsModule],
})
export class AuthModule {}
