import { JobKind, JobOutcome, JobSpec, JobStatus } from '@flansible/contracts';
import { randomUUID } from 'node:crypto';
import { NewJob } from '../job-records';

/** Specs only: job specs and new jobs for store scenarios. */
export const commandSpec: JobSpec = {
  kind: JobKind.Command,
  inventoryPath: '/srv/inventories/prod.ini',
  hostPattern: 'web*',
  module: 'shell',
  moduleArgs: { cmd: 'echo "héllo ✓"', chdir: '/tmp' },
  extraVars: { nested: { list: [1, 'two', null, true] }, quote: "it's \"quoted\"" },
  forks: 5,
  become: true,
};

export const gitSpec: JobSpec = { kind: JobKind.Git, repoDir: '/srv/playbooks', remote: 'origin', branch: 'main', reset: false };

export function newJob(overrides: Partial<NewJob> = {}): NewJob {
  return { id: randomUUID(), submittedBy: 'alice', spec: commandSpec, createdAt: new Date(), ...overrides };
}

export const failed: JobOutcome = { status: JobStatus.Failed, reason: 'ansible exited with 2', returnCode: 2 };
export const successful: JobOutcome = { status: JobStatus.Successful, reason: null, returnCode: 0 };

/**
 * A job row as the code of an older schema wrote it (today's createJob writes later columns too),
 * for the specs of the migrations that followed: only the columns every schema has, plus `extra`.
 */
export function oldSchemaJobRow(job: NewJob, extra: Record<string, unknown> = {}): never {
  return {
    id: job.id,
    kind: job.spec.kind,
    status: JobStatus.Queued,
    submitted_by: job.submittedBy,
    spec: JSON.stringify(job.spec),
    created_at: job.createdAt.getTime(),
    ...extra,
  } as never;
}
