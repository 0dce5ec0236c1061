import { IsDefined, IsIn } from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import { RelaunchHosts } from '../relaunch-hosts';

const HOSTS = Object.values(RelaunchHosts);

/** POST /api/v1/jobs/{id}/relaunch. Everything else comes from the job itself, as it was stored. */
export class RelaunchJobDto {
  /**
   * Which hosts of the job's per-host results (its summary) to run on again: every one, those
   * that failed (a rescued or ignored failure does not count), those unreachable, or both.
   */
  @ApiProperty({ enum: HOSTS })
  @IsIn(HOSTS, { message: `hosts must be one of ${HOSTS.join(', ')}` })
  @IsDefined({ message: 'hosts is required' })
  hosts!: RelaunchHosts;
}
