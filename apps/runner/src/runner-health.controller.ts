import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ErrorBody, ReadinessProbe, ReadyBody } from '@flansible/contracts';
import { JobRunnerService, RunnerDrainService } from '@flansible/execution';
import { JobQueue } from '@flansible/queue';
import { RunnerJobStore } from '@flansible/store';

interface Liveness {
  status: 'ok';
  runner: string;
  running_jobs: number;
}

/** The runner's own HTTP face: liveness and readiness for an orchestrator. */
@Controller('health')
export class RunnerHealthController {
  private readonly probe: ReadinessProbe;

  constructor(
    private readonly runner: JobRunnerService,
    private readonly drain: RunnerDrainService,
    queue: JobQueue,
    store: RunnerJobStore,
  ) {
    this.probe = new ReadinessProbe({ store: () => store.ping(), queue: () => queue.consuming });
  }

  /** Up while the process runs its event loop; says which runner and how busy. */
  @Get()
  health(): Liveness {
    return this.live();
  }

  /** The same as GET /health (the path compose files and probes already use). */
  @Get('live')
  live(): Liveness {
    return { status: 'ok', runner: this.runner.runnerId, running_jobs: this.runner.runningJobCount };
  }

  /** 200 while consuming jobs with the store reachable; 503 naming the part that is down, or draining. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<ReadyBody | ErrorBody> {
    const { statusCode, body } = await this.probe.answer(this.drain.draining);
    res.status(statusCode);
    return body;
  }
}
