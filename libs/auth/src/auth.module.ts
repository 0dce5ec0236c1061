import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { BasicStrategy } from './basic.strategy';
import { BearerStrategy } from './bearer.strategy';
import { CredentialsGuard } from './credentials.guard';
import { LoginThrottle } from './login-throttle';
import { RightsModule } from './rights.module';

/**
 * The gateway's HTTP login (Basic auth or an API token on every route unless @Public) over the
 * users of RightsModule; tokens from the store's ApiTokenStore (StoreModule, global).
 */
@Module({
  imports: [PassportModule, RightsModule],
  providers: [BasicStrategy, BearerStrategy, LoginThrottle, { provide: APP_GUARD, useClass: CredentialsGuard }],
  exports: [RightsModule],
})
export class AuthModule {}
