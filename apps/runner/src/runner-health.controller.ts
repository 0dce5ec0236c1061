import { Controller, Get } from '@nestjs/common';
import { JobRunnerService } from '@flansible/execution';

/** The runner's own HTTP face: liveness for an orchestrator. */
@Controller('health')
export class RunnerHealthController {
  constructor(private readonly runner: JobRunnerService) {}

  /** Up while the process runs its event loop; says which runner and how busy. */
  @Get('live')
  live(): { status: 'ok'; runner: string; running_jobs: number } {
    return { status: 'ok', runner: this.runner.runnerId, running_jobs: this.runner.runningJobCount };
  }
}
