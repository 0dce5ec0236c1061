import { ApiProperty } from '@nestjs/swagger';
import { FlansibleTaskStatus } from '@flansible/contracts';

/** Answer to a job submission. */
export class TaskIdDto {
  /** The job's id, for the status and output endpoints. */
  task_id!: string;
}

/** GET /api/ansibletaskstatus/{task_id}: note the capital S in `Status`. */
export class TaskStatusDto {
  @ApiProperty({ enum: Object.values(FlansibleTaskStatus) })
  Status!: FlansibleTaskStatus;

  /** Empty on success, the reason on failure, a progress note while queued or running. */
  description!: string;

  /** Ansible's exit code once it has exited, else null. */
  @ApiProperty({ type: Number, nullable: true })
  returncode!: number | null;
}
