import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { WorkspaceService } from '@flansible/workspace';
import { ApiAuthenticated } from '../common/api-error-responses';
import { ListedPlaybookDto } from './dto/listed-playbook.dto';

@ApiTags('flansible')
@ApiAuthenticated()
@Controller('api')
export class PlaybooksController {
  constructor(private readonly workspace: WorkspaceService) {}

  /** Every playbook under the playbook root. */
  @Get('listplaybooks')
  @ApiOkResponse({ type: [ListedPlaybookDto] })
  listPlaybooks(): Promise<ListedPlaybookDto[]> {
    return this.workspace.listPlaybooks();
  }
}
