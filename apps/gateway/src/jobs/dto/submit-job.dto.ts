import { IntersectionType } from '@nestjs/swagger';
import { AnsibleCommandDto } from './ansible-command.dto';
import { AnsiblePlaybookDto } from './ansible-playbook.dto';
import { JobOptionsDto, PlaybookTagsDto } from './job-options.dto';

/** POST /api/v1/jobs/command: everything /api/ansiblecommand takes, plus the v1 launch fields. */
export class SubmitCommandJobDto extends IntersectionType(AnsibleCommandDto, JobOptionsDto) {}

/** POST /api/v1/jobs/playbook: everything /api/ansibleplaybook takes, plus the v1 launch fields and tags. */
export class SubmitPlaybookJobDto extends IntersectionType(AnsiblePlaybookDto, JobOptionsDto, PlaybookTagsDto) {}
