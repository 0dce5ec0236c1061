import { ListedPlaybook } from '@flansible/workspace';

/** A playbook under the playbook root, in the shape POST /api/ansibleplaybook takes. */
export class ListedPlaybookDto implements ListedPlaybook {
  /** File name, e.g. `site.yml`. */
  playbook!: string;
  /** Absolute directory holding it. */
  playbook_dir!: string;
}
