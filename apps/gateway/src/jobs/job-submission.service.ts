import { currentLogFields } from '@flansible/logging';
import { BadRequestException, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuthenticatedUser, JobPolicyService } from '@flansible/auth';
import { FlansibleConfig } from '@flansible/config';
import {
  AnsibleRunOptions,
  CommandJobSpec,
  InvalidJobSpecError,
  JOB_MESSAGE_SCHEMA_VERSION,
  JobKind,
  JobSpec,
  parseJobSpec,
  PlaybookJobSpec,
} from '@flansible/contracts';
import { FlansibleMetrics } from '@flansible/metrics';
import { JobQueue, QueueUnavailableError } from '@flansible/queue';
import { GatewayJobStore } from '@flansible/store';
import { WorkspaceService } from '@flansible/workspace';
import { AnsibleRunOptionsDto } from './dto/ansible-run-options.dto';
import { GitUpdateDto } from './dto/git-update.dto';
import { IdempotencyService, IdempotentRequest } from './idempotency.service';
import { JobQuotaService } from './job-quota.service';
import { JobOptionsDto } from './dto/job-options.dto';
import { CommandRequest, commandRequestOf, PlaybookRequest, playbookRequestOf } from './stored-request';

/** A submission's result: the job's id, and false when an Idempotency-Key named an earlier job. */
export interface SubmittedJob {
  id: string;
  created: boolean;
}

export interface SubmitOptions {
  /** With the user, makes a retried submission return the first job instead of running twice. */
  idempotency?: IdempotentRequest;
}

/** A relaunch: which job it repeats, and the hosts (exact names) it is narrowed to. */
export interface Relaunch {
  of: string;
  hosts: string[];
}

type RunRequest = AnsibleRunOptionsDto & Partial<JobOptionsDto>;

/**
 * Turns a validated request into a job: authorises every part of it before anything is stored,
 * resolves every path inside its root, checks the per-user job limit, stores the job as queued
 * and publishes it, answering only once the broker has it.
 */
@Injectable()
export class JobSubmissionService {
  private readonly logger = new Logger(JobSubmissionService.name);

  constructor(
    private readonly config: FlansibleConfig,
    private readonly store: GatewayJobStore,
    private readonly queue: JobQueue,
    private readonly workspace: WorkspaceService,
    private readonly policy: JobPolicyService,
    private readonly quota: JobQuotaService,
    private readonly idempotency: IdempotencyService,
    private readonly metrics: FlansibleMetrics,
  ) {}

  submitCommand(user: AuthenticatedUser, dto: CommandRequest, options: SubmitOptions = {}): Promise<SubmittedJob> {
    return this.enqueue(user, this.commandSpec(user, dto), options);
  }

  submitPlaybook(user: AuthenticatedUser, dto: PlaybookRequest, options: SubmitOptions = {}): Promise<SubmittedJob> {
    return this.enqueue(user, this.playbookSpec(user, dto), options);
  }

  submitGitUpdate(user: AuthenticatedUser, dto: GitUpdateDto): Promise<SubmittedJob> {
    this.policy.authorizeGit(user);
    return this.enqueue(user, {
      kind: JobKind.Git,
      repoDir: this.workspace.resolveRepoDir(dto.playbook_dir),
      remote: dto.remote_name ?? 'origin',
      branch: dto.branch_name ?? 'master',
      reset: dto.reset ?? false,
    });
  }

  /**
   * Submits a stored job again for `user`, narrowed to `relaunch.hosts`: as the request that
   * would submit it (stored-request.ts), through every check a fresh submission goes through,
   * with the user's rights of now. A relaunch runs a job: whatever else a submission must pass
   * (a token's `run` scope, say) it must pass too.
   */
  resubmit(user: AuthenticatedUser, original: CommandJobSpec | PlaybookJobSpec, relaunch: Relaunch, options: SubmitOptions = {}): Promise<SubmittedJob> {
    const spec = original.kind === JobKind.Command ? this.commandSpec(user, commandRequestOf(original)) : this.playbookSpec(user, playbookRequestOf(original));
    return this.enqueue(user, { ...spec, limitHosts: relaunch.hosts }, options, relaunch.of);
  }

  private commandSpec(user: AuthenticatedUser, dto: CommandRequest): CommandJobSpec {
    const hostPattern = (dto.host_pattern ?? dto.host_filter) as string;
    this.policy.authorizeModule(user, dto.module);
    this.policy.authorizeHostPattern(user, hostPattern);
    this.policy.authorizeVariables(user, 'module_args', dto.module_args);
    this.policy.authorizeModuleArguments(user, dto.module, dto.module_args);
    return {
      kind: JobKind.Command,
      hostPattern,
      module: dto.module,
      moduleArgs: dto.module_args,
      ...this.runOptions(user, dto),
    };
  }

  private playbookSpec(user: AuthenticatedUser, dto: PlaybookRequest): PlaybookJobSpec {
    const { playbookDir, playbookPath } = this.workspace.resolvePlaybook(dto.playbook_dir, dto.playbook);
    this.policy.authorizePlaybook(user, playbookPath);
    this.policy.authorizeTags(user, dto.tags, dto.skip_tags);
    if (dto.update_git_repo) {
      this.policy.authorizeGit(user);
      // git pulls in the playbook directory itself, so it must be the top of a checkout.
      this.workspace.resolveRepoDir(dto.playbook_dir);
    }
    return {
      kind: JobKind.Playbook,
      playbookDir,
      playbookPath,
      vaultFile: dto.vault_file === undefined || dto.vault_file === null ? undefined : this.policy.authorizeVaultFile(user, dto.vault_file),
      updateGitRepo: dto.update_git_repo,
      tags: dto.tags,
      skipTags: dto.skip_tags,
      ...this.runOptions(user, dto),
    };
  }

  private runOptions(user: AuthenticatedUser, dto: RunRequest): AnsibleRunOptions {
    this.policy.authorizeBecome(user, dto);
    // Both API generations: the Flansible endpoints take verbose_level, v1 also diff.
    this.policy.authorizeOutputDetail(user, { verboseLevel: dto.verbose_level, diff: dto.diff });
    this.policy.authorizeVariables(user, 'extra_vars', dto.extra_vars);
    this.policy.authorizeLimit(user, dto.limit);
    return {
      // Checked on every request, whether the inventory is named, given as a path or defaulted.
      inventoryPath: this.policy.authorizeInventory(user, dto.inventory ?? this.config.defaultInventory),
      extraVars: dto.extra_vars,
      forks: dto.forks,
      verboseLevel: dto.verbose_level,
      become: dto.become,
      becomeMethod: dto.become_method,
      becomeUser: dto.become_user,
      limit: dto.limit,
      check: dto.check,
      diff: dto.diff,
      // A job may ask for less time than the server allows, never more.
      timeoutSeconds: dto.timeout === undefined ? undefined : Math.min(dto.timeout, this.config.taskTimeoutSeconds),
      priority: dto.priority,
      // Everyone else runs under the guard inside Ansible (declared hosts, argument rules).
      unrestricted: user.isAdmin ? true : undefined,
    };
  }

  /** `relaunchOf`: the job this one repeats. */
  private enqueue(user: AuthenticatedUser, spec: JobSpec, options: SubmitOptions = {}, relaunchOf?: string): Promise<SubmittedJob> {
    checkAsRunnerWould(spec);
    const request = options.idempotency;
    if (request === undefined) return this.storeAndPublish(user, spec, undefined, relaunchOf);
    // A retry on this gateway waits for the outcome of the attempt before it.
    return this.idempotency.oneAtATime(user.name, request, () => this.storeAndPublish(user, spec, request, relaunchOf));
  }

  private async storeAndPublish(user: AuthenticatedUser, spec: JobSpec, request?: IdempotentRequest, relaunchOf?: string): Promise<SubmittedJob> {
    const submittedAt = new Date();
    // Set by RequestIdMiddleware for this request: stored with the job, carried in its message.
    const { requestId } = currentLogFields();
    // An Idempotency-Key retry at the limit is refused too (429, retry later): it creates nothing.
    const stored = await this.quota.withinLimit(user, () =>
      this.store.createJob({
        id: randomUUID(),
        submittedBy: user.name,
        spec,
        createdAt: submittedAt,
        priority: spec.priority,
        idempotencyKey: request?.key,
        idempotencyFingerprint: request?.fingerprint,
        // From now, not submittedAt: the publish deadline starts after any wait for the quota.
        idempotencyPendingUntil: request && this.idempotency.pendingUntil(new Date()),
        requestId,
        relaunchOf,
      }),
    );
    const { id, created } = stored;
    if (!created) {
      this.idempotency.checkEarlier(request as IdempotentRequest, stored, new Date());
      return { id, created };
    }
    try {
      await this.queue.publish({
        schemaVersion: JOB_MESSAGE_SCHEMA_VERSION,
        jobId: id,
        submittedBy: user.name,
        submittedAt: submittedAt.toISOString(),
        spec,
        ...(requestId ? { requestId } : {}),
      });
    } catch (err) {
      // Not durably queued: leave nothing behind and hand out no id.
      this.metrics.publishFailed();
      await this.store.deleteJob(id);
      if (err instanceof QueueUnavailableError) this.logger.warn(`Job ${id} not queued: ${err.message}`);
      throw err;
    }
    // The outbox flag; unset, the job counts as never published and the reconciler publishes it again (harmless).
    await this.store.markPublished(id, new Date()).catch((err: Error) => this.logger.warn(`Job ${id} queued but not marked published: ${err.message}`));
    if (request) await this.confirmKey(id);
    this.logger.log(`Job ${id} queued: ${spec.kind} by ${user.name}${relaunchOf ? `, relaunching ${relaunchOf}` : ''}`);
    this.metrics.jobSubmitted(spec.kind);
    return { id, created };
  }

  /** The job is queued whatever happens here: if the store fails now, its pending deadline ends the wait by itself. */
  private async confirmKey(id: string): Promise<void> {
    try {
      await this.store.confirmIdempotencyKey(id);
    } catch (err) {
      this.logger.warn(`Job ${id} queued, but its Idempotency-Key stays pending until its deadline: ${(err as Error).message}`);
    }
  }
}

/**
 * The spec passes the runner's own check (parseJobSpec, the rules its message parser and argv
 * builders apply) before anything is stored: the DTOs apply the same rules, so this never fires
 * unless they drift apart, and then the request is a 400 instead of a job that ends in error.
 */
function checkAsRunnerWould(spec: JobSpec): void {
  try {
    parseJobSpec(spec);
  } catch (err) {
    if (err instanceof InvalidJobSpecError) throw new BadRequestException(err.message);
    throw err;
  }
}
