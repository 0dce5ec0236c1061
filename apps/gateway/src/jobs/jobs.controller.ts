import { applyDecorators, Body, Controller, Get, Headers, HttpCode, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnprocessableEntityResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { AuthenticatedUser, CurrentUser, RequiresScope } from '@flansible/auth';
import { ApiTokenScope, StoreRange } from '@flansible/contracts';
import { ApiAuthenticated, ApiSubmissionErrors } from '../common/api-error-responses';
import { ErrorBodyDto } from '../common/error-body.dto';
import { EventPageDto, EventsQueryDto, JobSummaryDto } from './dto/job-events.dto';
import { OutputPageDto, OutputQueryDto } from './dto/job-output.dto';
import { JobPageDto, JobResourceDto } from './dto/job-resource.dto';
import { ListJobsQueryDto } from './dto/list-jobs-query.dto';
import { RelaunchJobDto } from './dto/relaunch-job.dto';
import { SubmitCommandJobDto, SubmitPlaybookJobDto } from './dto/submit-job.dto';
import { IdempotencyKey } from './idempotency-key.decorator';
import { IdempotentRequest } from './idempotency.service';
import { JobControlService } from './job-control.service';
import { JobQueryService } from './job-query.service';
import { JobRelaunchService } from './job-relaunch.service';
import { JobStreamService } from './job-stream.service';
import { JobSubmissionService, SubmittedJob } from './job-submission.service';

const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  required: false,
  description:
    'Retrying the same request with the same key returns the job the first request created instead of running it twice. ' +
    'A key belongs to the request it was first sent with (method, route and body); a key whose first request failed is free again.',
};

/** The Idempotency-Key header and the answers it may bring. */
const ApiIdempotency = () =>
  applyDecorators(
    ApiHeader(IDEMPOTENCY_HEADER),
    ApiConflictResponse({ type: ErrorBodyDto, description: 'The first request with this Idempotency-Key is still under way: retry (see Retry-After)' }),
    ApiUnprocessableEntityResponse({ type: ErrorBodyDto, description: 'This Idempotency-Key was used for a different request' }),
  );

const LOCATION_HEADER = { Location: { description: "The job's URL", schema: { type: 'string' } } };

/** A route that queues a job: 202 with the job and its Location, an Idempotency-Key, the submission errors. */
const ApiLaunch = () =>
  applyDecorators(
    HttpCode(HttpStatus.ACCEPTED),
    ApiIdempotency(),
    ApiAcceptedResponse({ type: JobResourceDto, description: 'Queued', headers: LOCATION_HEADER }),
    ApiOkResponse({ type: JobResourceDto, description: 'An Idempotency-Key retry: the job the first attempt created', headers: LOCATION_HEADER }),
    ApiSubmissionErrors(),
  );

/** The versioned resource API: jobs with history, output ranges, events, summary, live stream, cancel. */
@ApiTags('jobs')
@ApiAuthenticated()
@ApiNotFoundResponse({ type: ErrorBodyDto, description: 'Unknown job, or one this user may not see' })
@Controller('api/v1/jobs')
export class JobsController {
  constructor(
    private readonly submission: JobSubmissionService,
    private readonly query: JobQueryService,
    private readonly control: JobControlService,
    private readonly streams: JobStreamService,
    private readonly relaunches: JobRelaunchService,
  ) {}

  /** Run an ad-hoc command. */
  @Post('command')
  @RequiresScope(ApiTokenScope.Run)
  @ApiLaunch()
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: 'Inventory, module, host, become or ansible_* variable not allowed' })
  async submitCommand(
    @CurrentUser() user: AuthenticatedUser,
    @Body() dto: SubmitCommandJobDto,
    @IdempotencyKey() idempotency: IdempotentRequest | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<JobResourceDto> {
    return this.accepted(user, await this.submission.submitCommand(user, dto, { idempotency }), res);
  }

  /** Run a playbook from the playbook root. */
  @Post('playbook')
  @RequiresScope(ApiTokenScope.Run)
  @ApiLaunch()
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: 'Inventory, playbook, vault file, become, git or ansible_* variable not allowed, or a path outside its root' })
  async submitPlaybook(
    @CurrentUser() user: AuthenticatedUser,
    @Body() dto: SubmitPlaybookJobDto,
    @IdempotencyKey() idempotency: IdempotentRequest | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<JobResourceDto> {
    return this.accepted(user, await this.submission.submitPlaybook(user, dto, { idempotency }), res);
  }

  /** History, newest first, with filters and keyset pagination. */
  @Get()
  @ApiOkResponse({ type: JobPageDto })
  @ApiBadRequestResponse({ type: ErrorBodyDto })
  listJobs(@CurrentUser() user: AuthenticatedUser, @Query() query: ListJobsQueryDto): Promise<JobPageDto> {
    return this.query.listJobs(user, query);
  }

  /** One job: status, reason, return code, who, what, timings, runner. */
  @Get(':id')
  @ApiOkResponse({ type: JobResourceDto })
  async getJob(@CurrentUser() user: AuthenticatedUser, @Param('id') id: string): Promise<JobResourceDto> {
    return this.query.getJobResource(user, id);
  }

  /**
   * Output lines: JSON with a `start_line`..`end_line` range, or the text itself with
   * `Accept: text/plain`, or the whole output as a file with `download=true`.
   */
  @Get(':id/output')
  @ApiExtraModels(OutputPageDto)
  @ApiOkResponse({
    description: 'A JSON range, or the lines as text with Accept: text/plain (or download=true)',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(OutputPageDto) } },
      'text/plain': { schema: { type: 'string' } },
    },
  })
  @ApiBadRequestResponse({ type: ErrorBodyDto })
  async getJobOutput(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id') id: string,
    @Query() query: OutputQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OutputPageDto | string> {
    if (query.download) {
      const text = await this.query.getOutput(user, id);
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.setHeader('Content-Disposition', `attachment; filename="job-${id}.log"`);
      return text;
    }
    const page = await this.query.getOutputLines(user, id, query.start_line, query.end_line);
    if (prefersText(accept)) {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      return page.lines.map((line) => `${line}\n`).join('');
    }
    return page;
  }

  /** Structured events, oldest first, keyset by `after`, filtered by host and type. */
  @Get(':id/events')
  @ApiOkResponse({ type: EventPageDto })
  @ApiBadRequestResponse({ type: ErrorBodyDto })
  getJobEvents(@CurrentUser() user: AuthenticatedUser, @Param('id') id: string, @Query() query: EventsQueryDto): Promise<EventPageDto> {
    return this.query.getEvents(user, id, query);
  }

  /** Per-host totals: ok, changed, failed, unreachable, skipped, rescued, ignored. */
  @Get(':id/summary')
  @ApiOkResponse({ type: JobSummaryDto })
  getJobSummary(@CurrentUser() user: AuthenticatedUser, @Param('id') id: string): Promise<JobSummaryDto> {
    return this.query.getSummary(user, id);
  }

  /**
   * Server-Sent Events: `output` ({start_line, lines}), `event` (a structured event), `status`
   * and finally `end`. Resume with the Last-Event-ID header; nothing is lost or repeated. A stream
   * that ends early says why in a `closed` message ({reason}): its user may no longer read the
   * job, or the gateway is stopping.
   */
  @Get(':id/stream')
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: `The id of the last message received, to resume: lines:events, each from 0 to ${StoreRange.counter.max}`,
    schema: { type: 'string', pattern: '^[0-9]+:[0-9]+$' },
  })
  @ApiOkResponse({ description: 'An event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiBadRequestResponse({ type: ErrorBodyDto, description: 'Malformed or out-of-range Last-Event-ID (answered before the stream starts)' })
  @ApiTooManyRequestsResponse({
    type: ErrorBodyDto,
    description: 'Too many failed logins, or max_streams_per_user / max_streams streams already open on this gateway; see Retry-After',
  })
  async streamJob(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id') id: string,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    await this.streams.stream(user, id, lastEventId, res);
  }

  /**
   * Relaunch a finished job on all, the failed, the unreachable, or the failed and unreachable
   * hosts of its results: the same request (extra vars as stored, never resent), narrowed to
   * those hosts by name within its own limit, checked against the caller's rights of now.
   */
  @Post(':id/relaunch')
  @RequiresScope(ApiTokenScope.Run)
  @ApiLaunch()
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: 'Not the submitter or an admin, or a right the job needs is no longer granted' })
  @ApiConflictResponse({ type: ErrorBodyDto, description: 'The job has not finished, is a git update, or no host of its results matches' })
  async relaunchJob(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id') id: string,
    @Body() dto: RelaunchJobDto,
    @IdempotencyKey() idempotency: IdempotentRequest | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<JobResourceDto> {
    return this.accepted(user, await this.relaunches.relaunch(user, id, dto.hosts, { idempotency }), res);
  }

  /** Cancel: a queued job never starts; a running one's process tree is stopped. */
  @Post(':id/cancel')
  @RequiresScope(ApiTokenScope.Run)
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiAcceptedResponse({ type: JobResourceDto })
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: 'Only the submitter or an admin may cancel a job others may read' })
  @ApiServiceUnavailableResponse({ type: ErrorBodyDto })
  cancelJob(@CurrentUser() user: AuthenticatedUser, @Param('id') id: string): Promise<JobResourceDto> {
    return this.control.cancel(user, id);
  }

  private async accepted(user: AuthenticatedUser, submitted: SubmittedJob, res: Response): Promise<JobResourceDto> {
    const job = await this.query.getJobResource(user, submitted.id);
    res.setHeader('Location', job.url);
    // A retried submission answers 200 with the job its first attempt created.
    if (!submitted.created) res.status(HttpStatus.OK);
    return job;
  }
}

function prefersText(accept: string | undefined): boolean {
  return !!accept && /text\/plain/.test(accept) && !/application\/json/.test(accept);
}
