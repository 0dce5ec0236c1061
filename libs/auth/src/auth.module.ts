import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { WorkspaceModule } from '@flansible/workspace';
import { BasicAuthGuard } from './basic-auth.guard';
import { BasicStrategy } from './basic.strategy';
import { InventoryAccessService } from './inventory-access.service';
import { RbacService } from './rbac.service';

@Module({
  imports: [PassportModule, WorkspaceModule],
  providers: [RbacService, BasicStrategy, InventoryAccessService, { provide: APP_GUARD, useClass: BasicAuthGuard }],
  exports: [RbacService, InventoryAccessService],
})
export class AuthModule {}
