import { Module } from '@nestjs/common';
import { WorkspaceModule } from '@flansible/workspace';
import { PlaybooksController } from './playbooks.controller';

@Module({ imports: [WorkspaceModule], controllers: [PlaybooksController] })
export class PlaybooksModule {}
