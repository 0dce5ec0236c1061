import { Controller, Get } from '@nestjs/common';
import { ApiBasicAuth, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { WorkspaceService } from '@flansible/workspace';
import { ErrorBodyDto } from '../common/error-body.dto';
import { ListedPlaybookDto } from './dto/listed-playbook.dto';

@ApiTags('flansible')
@ApiBasicAuth()
@ApiUnauthorizedResponse({ type: ErrorBodyDto, description: 'Missing or wrong credentials' })
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
