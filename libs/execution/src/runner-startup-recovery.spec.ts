import { DynamicModule, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConfigModule } from '@flansible/config';
import { JobKind, JobStatus } from '@flansible/contracts';
import { InProcessJobCancelBus, InProcessJobNoticeBus, InProcessJobQueue, JobCancelBus, JobNoticeBus, JobQueue } from '@flansible/queue';
import { RunnerJobStore } from '@flansible/store';
import { ExecutionModule } from './execution.module';
import { lostRunnerReason } from './lost-runner-sweeper';
import { RunnerStartupRecovery } from './runner-startup-recovery';
import { AnsibleSandbox, createAnsibleSandbox } from './testing/ansible-sandbox';
import { InMemoryJobStore } from './testing/in-memory-output-store';

const RESTARTED = 'its runner stopped when this process did';

let store: InMemoryJobStore;

@Module({})
class PortsModule {
  static with(jobs: InMemoryJobStore): DynamicModule {
    const providers = [
      { provide: RunnerJobStore, useValue: jobs },
      { provide: JobQueue, useValue: new InProcessJobQueue() },
      { provide: JobNoticeBus, useValue: new InProcessJobNoticeBus() },
      { provide: JobCancelBus, useValue: new InProcessJobCancelBus() },
    ];
    return { module: PortsModule, global: true, providers, exports: [RunnerJobStore, JobQueue, JobNoticeBus, JobCancelBus] };
  }
}

/** Ends what was running with its own reason, as the embedded deployment's recovery does. */
@Injectable()
class EndWhatWasRunning extends RunnerStartupRecovery {
  async recover(): Promise<void> {
    for (const job of await store.findJobsByStatus([JobStatus.Running])) {
      await store.completeJob(job.id, { status: JobStatus.Error, reason: RESTARTED, returnCode: null }, new Date());
    }
  }
}

let sandbox: AnsibleSandbox;
beforeAll(async () => {
  // No job runs here: no fork server either.
  sandbox = await createAnsibleSandbox({ runnerLostAfterSeconds: 1, warmRunner: false });
});
afterAll(() => sandbox.dispose());

/** A job left running by a runner silent for far longer than the loss limit (a slow restart). */
async function seedJobOfLongSilentRunner(): Promise<string> {
  store = new InMemoryJobStore();
  const id = 'left-running';
  await store.createJob({ id, submittedBy: 'tester', spec: { kind: JobKind.Command, inventoryPath: sandbox.inventoryPath, hostPattern: 'localhost', module: 'ping' }, createdAt: new Date() });
  const longAgo = new Date(Date.now() - 60_000);
  await store.recordHeartbeat('previous-process', longAgo);
  await store.claimJob(id, 'previous-process', longAgo);
  return id;
}

async function start(execution: DynamicModule | typeof ExecutionModule) {
  const moduleRef = await Test.createTestingModule({ imports: [ConfigModule.forRoot(sandbox.config), PortsModule.with(store), execution] }).compile();
  return moduleRef.createNestApplication({ logger: false }).init();
}

describe('the runner at start', () => {
  it('lets the deployment settle its predecessor\u2019s jobs before the lost-runner sweep, however long the restart took', async () => {
    const id = await seedJobOfLongSilentRunner();
    const app = await start(ExecutionModule.withStartupRecovery(EndWhatWasRunning));
    try {
      expect(await store.findJob(id)).toMatchObject({ status: JobStatus.Error, reason: RESTARTED });
    } finally {
      await app.close();
    }
  });

  it('without a deployment\u2019s recovery, ends them as the jobs of a lost runner', async () => {
    const id = await seedJobOfLongSilentRunner();
    const app = await start(ExecutionModule);
    try {
      expect(await store.findJob(id)).toMatchObject({ status: JobStatus.Error, reason: lostRunnerReason(1_000, 'previous-process') });
    } finally {
      await app.close();
    }
  });
});
