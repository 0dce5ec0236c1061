import { Body, Controller, Get, Header, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AuthenticatedUser, CurrentUser, RequiresScope } from '@flansible/auth';
import { ApiTokenScope } from '@flansible/contracts';
import { ApiAuthenticated, ApiSubmissionErrors } from '../common/api-error-responses';
import { ErrorBodyDto } from '../common/error-body.dto';
import { AnsibleCommandDto } from './dto/ansible-command.dto';
import { AnsiblePlaybookDto } from './dto/ansible-playbook.dto';
import { GitUpdateDto } from './dto/git-update.dto';
import { TaskIdDto, TaskStatusDto } from './dto/task-responses.dto';
import { JobQueryService } from './job-query.service';
import { JobSubmissionService } from './job-submission.service';

/** The original Flansible endpoints: same paths, fields and answers. */
@ApiTags('flansible')
@ApiAuthenticated()
@Controller('api')
export class FlansibleJobsController {
  constructor(
    private readonly submission: JobSubmissionService,
    private readonly query: JobQueryService,
  ) {}

  /** Run an ad-hoc command. */
  @Post('ansiblecommand')
  @RequiresScope(ApiTokenScope.Run)
  @HttpCode(HttpStatus.OK)
  @ApiOkResponse({ type: TaskIdDto })
  @ApiSubmissionErrors()
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: 'Inventory, module, host, become or ansible_* variable not allowed' })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: 'Inventory not found' })
  async runCommand(@CurrentUser() user: AuthenticatedUser, @Body() dto: AnsibleCommandDto): Promise<TaskIdDto> {
    return { task_id: (await this.submission.submitCommand(user, dto)).id };
  }

  /** Run a playbook from the playbook root. */
  @Post('ansibleplaybook')
  @RequiresScope(ApiTokenScope.Run)
  @HttpCode(HttpStatus.OK)
  @ApiOkResponse({ type: TaskIdDto })
  @ApiSubmissionErrors()
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: 'Inventory, playbook, vault file, become, git or ansible_* variable not allowed, or a path outside its root' })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: 'Directory, playbook, inventory or vault file not found, or update_git_repo on a directory that is not the top of a git checkout' })
  async runPlaybook(@CurrentUser() user: AuthenticatedUser, @Body() dto: AnsiblePlaybookDto): Promise<TaskIdDto> {
    return { task_id: (await this.submission.submitPlaybook(user, dto)).id };
  }

  /** Update a playbook repository (`git pull`, optionally after fetch and hard reset). */
  @Post('git')
  @RequiresScope(ApiTokenScope.Run)
  @HttpCode(HttpStatus.OK)
  @ApiOkResponse({ type: TaskIdDto })
  @ApiSubmissionErrors()
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: 'User may not update git repositories, or directory outside the playbook root' })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: 'Directory not found, or not the top of a git checkout' })
  async updateGitRepo(@CurrentUser() user: AuthenticatedUser, @Body() dto: GitUpdateDto): Promise<TaskIdDto> {
    return { task_id: (await this.submission.submitGitUpdate(user, dto)).id };
  }

  /** A job's status: PROGRESS while queued or running, then SUCCESS or FLANSIBLE_TASK_FAILURE. */
  @Get('ansibletaskstatus/:task_id')
  @ApiOkResponse({ type: TaskStatusDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: 'Unknown task id' })
  getTaskStatus(@CurrentUser() user: AuthenticatedUser, @Param('task_id') taskId: string): Promise<TaskStatusDto> {
    return this.query.getFlansibleStatus(user, taskId);
  }

  /** A job's combined output so far, as a terminal shows it. */
  @Get('ansibletaskoutput/:task_id')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @ApiOkResponse({ description: 'Combined stdout and stderr so far', content: { 'text/plain': { schema: { type: 'string' } } } })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: 'Unknown task id' })
  getTaskOutput(@CurrentUser() user: AuthenticatedUser, @Param('task_id') taskId: string): Promise<string> {
    return this.query.getOutput(user, taskId);
  }
}
