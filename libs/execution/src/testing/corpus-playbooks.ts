import { JobStatus } from '@flansible/contracts';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CorpusJob, execFileAsync, filesDir, MULTI_INVENTORY, TAGGED_PLAYBOOK, verbose, writeInventory } from './corpus-job';
import { play } from './job-executor-harness';

/** The differential corpus's playbooks (differential-corpus.ts). */
export const PLAYBOOK_CORPUS: CorpusJob[] = [
  {
    name: 'playbook-loops',
    covers: 'loops: a list, dicts with loop_control label, a conditional item, with_items, registered loop results',
    prepare: async (h) =>
      h.playbook(
        await h.sandbox().writePlaybook(
          'loops.yml',
          play(
            'name: plain list\ndebug: msg="item {{ item }}"\nloop: [a, b, c]',
            'name: dicts with a label\ndebug: msg="{{ item.name }}={{ item.value }}"\nloop: [{name: x, value: 1}, {name: y, value: 2}]\nloop_control:\n  label: "{{ item.name }}"',
            "name: one item skipped\ncommand: echo {{ item }}\nloop: [keep, drop, keep2]\nwhen: item != 'drop'\nregister: looped",
            'name: registered results\ndebug: msg="{{ looped.results | map(attribute=\'stdout\') | select(\'defined\') | list }}"',
            'name: with_items\ndebug: msg="old style {{ item }}"\nwith_items: [1, 2]',
          ),
        ),
      ),
    status: JobStatus.Successful,
    outputHas: ['(item=x)', 'old style 2'],
  },
  {
    name: 'playbook-handlers',
    covers: 'handlers: notified by a change, not by an unchanged task, flushed mid-play, listen topics',
    prepare: async (h) => {
      const marker = join(await filesDir(h), 'handler-marker');
      return h.playbook(
        await h.sandbox().writePlaybook(
          'handlers.yml',
          `- hosts: all
  gather_facts: false
  tasks:
    - name: change something
      command: touch ${marker}
      notify: first handler
    - name: change nothing
      command: "true"
      changed_when: false
      notify: never notified
    - meta: flush_handlers
    - name: after the flush
      debug: msg="after-flush"
      changed_when: true
      notify: a topic
  handlers:
    - name: first handler
      debug: msg="first-handler-ran"
    - name: never notified
      debug: msg="never-notified-ran"
    - name: listening handler
      debug: msg="listening-handler-ran"
      listen: a topic
`,
        ),
      );
    },
    status: JobStatus.Successful,
    outputHas: ['RUNNING HANDLER [first handler]', 'listening-handler-ran'],
    outputLacks: ['never-notified-ran'],
  },
  {
    name: 'playbook-ignore-errors',
    covers: 'a failing task with ignore_errors: "...ignoring", the play goes on, ignored=1',
    prepare: async (h) =>
      h.playbook(
        await h.sandbox().writePlaybook(
          'ignore-errors.yml',
          play('name: fails\ncommand: /bin/false\nignore_errors: true', 'name: goes on\ndebug: msg="still-running"'),
        ),
      ),
    status: JobStatus.Successful,
    outputHas: ['...ignoring', 'still-running', 'ignored=1'],
  },
  {
    name: 'playbook-block-rescue',
    covers: 'block / rescue / always: the failure is rescued, rescued=1',
    prepare: async (h) =>
      h.playbook(
        await h.sandbox().writePlaybook(
          'block.yml',
          `- hosts: all
  gather_facts: false
  tasks:
    - name: a block
      block:
        - name: in the block
          debug: msg="in-block"
        - name: fails in the block
          fail: msg="block-failure"
        - name: never reached
          debug: msg="never-reached"
      rescue:
        - name: rescue
          debug:
            msg: "rescued {{ ansible_failed_task.name }}: {{ ansible_failed_result.msg }}"
      always:
        - name: always
          debug: msg="always-ran"
`,
        ),
      ),
    status: JobStatus.Successful,
    outputHas: ['rescued fails in the block: block-failure', 'always-ran', 'rescued=1'],
    outputLacks: ['never-reached'],
  },
  {
    name: 'playbook-failed',
    covers: 'a failing playbook: the host stops at the failure, return code 2',
    prepare: async (h) =>
      h.playbook(await h.sandbox().writePlaybook('failing.yml', play('fail: msg="deliberate-failure"', 'debug: msg="after-failure"'))),
    status: JobStatus.Failed,
    outputHas: ['deliberate-failure', 'failed=1'],
    outputLacks: ['after-failure'],
  },
  {
    name: 'playbook-tags',
    covers: 'tags: only the tagged tasks (and those tagged always) run',
    prepare: async (h) => h.playbook(await h.sandbox().writePlaybook('tagged.yml', TAGGED_PLAYBOOK), { tags: ['deploy'] }),
    status: JobStatus.Successful,
    outputHas: ['deploy-task', 'always-task'],
    outputLacks: ['untagged-task', 'config-task'],
  },
  {
    name: 'playbook-skip-tags',
    covers: 'skip_tags: the tasks of those tags are left out',
    prepare: async (h) => h.playbook(await h.sandbox().writePlaybook('tagged.yml', TAGGED_PLAYBOOK), { skipTags: ['deploy', 'config'] }),
    status: JobStatus.Successful,
    outputHas: ['untagged-task', 'always-task'],
    outputLacks: ['deploy-task', 'config-task'],
  },
  {
    name: 'playbook-check-diff',
    covers: 'check and diff: a copy and a lineinfile that would change, shown as diffs, nothing written',
    prepare: async (h) => {
      const dir = await filesDir(h);
      await writeFile(join(dir, 'check-existing.txt'), 'line one\nline two\n');
      return h.playbook(
        await h.sandbox().writePlaybook(
          'check-diff.yml',
          play(
            `name: would create\ncopy:\n  content: "new content\\n"\n  dest: ${join(dir, 'check-new.txt')}`,
            `name: would edit\nlineinfile:\n  path: ${join(dir, 'check-existing.txt')}\n  regexp: "^line two"\n  line: "line 2"`,
            'name: runs in check mode too\ncommand: echo checked\ncheck_mode: false',
          ),
        ),
        { check: true, diff: true },
      );
    },
    status: JobStatus.Successful,
    outputHas: ['+new content', '-line two', '+line 2'],
  },
  {
    name: 'playbook-diff-apply',
    covers: 'diff without check: the change is made and shown (before/after headers name the file)',
    prepare: async (h) => {
      const dir = await filesDir(h);
      await writeFile(join(dir, 'diff-target.txt'), 'old text\n');
      return h.playbook(
        await h.sandbox().writePlaybook(
          'diff-apply.yml',
          play(`copy:\n  content: "new text\\n"\n  dest: ${join(dir, 'diff-target.txt')}`),
        ),
        { diff: true },
      );
    },
    status: JobStatus.Successful,
    outputHas: ['-old text', '+new text', 'changed=1'],
  },
  {
    name: 'playbook-become',
    covers: 'become (spec.become with becomeMethod su, as root here) and a task-level become',
    prepare: async (h) =>
      h.playbook(
        await h.sandbox().writePlaybook(
          'become.yml',
          play(
            'name: who am I\ncommand: id -un\nregister: who',
            'debug: msg="became {{ who.stdout }}"',
            'name: task-level become\ncommand: id -u\nbecome: true\nbecome_method: su\nbecome_user: root',
          ),
        ),
        { become: true, becomeMethod: 'su' },
      ),
    status: JobStatus.Successful,
    outputHas: ['became root'],
  },
  {
    name: 'playbook-vault',
    covers: 'a vault-encrypted variable (ansible-vault encrypt_string) opened with vaultFile',
    prepare: async (h) => {
      const { vaultRoot } = h.sandbox().config;
      const passwordFile = join(vaultRoot, 'corpus-vault-pass');
      await writeFile(passwordFile, 'corpus-vault-password\n', { mode: 0o600 });
      const { stdout } = await execFileAsync('ansible-vault', [
        'encrypt_string',
        `--vault-password-file=${passwordFile}`,
        '--name=vaulted_word',
        '--',
        'swordfish-from-the-vault',
      ]);
      await writeFile(join(h.sandbox().playbookDir, 'vault-vars.yml'), stdout);
      const path = await h.sandbox().writePlaybook(
        'vault.yml',
        `${play('debug: msg="the word is {{ vaulted_word }}"', 'debug: var=vaulted_word')}  vars_files: [vault-vars.yml]\n`,
      );
      return h.playbook(path, { vaultFile: passwordFile });
    },
    status: JobStatus.Successful,
    outputHas: ['the word is swordfish-from-the-vault'],
  },
  {
    name: 'playbook-unsafe-extra-vars',
    covers: 'extra vars (written !unsafe) holding Jinja: printed literally, never templated; numbers and nesting kept',
    prepare: async (h) =>
      h.playbook(
        await h.sandbox().writePlaybook(
          'unsafe-vars.yml',
          play(
            'debug: msg="{{ sneaky }}"',
            'debug: var=nested',
            // command splits its line as a shell would: the quotes go, the braces stay.
            'command: echo {{ sneaky }}\nregister: echoed',
            'debug: msg="echoed {{ echoed.stdout }}"',
            'debug: msg="{{ count + 1 }}"',
          ),
        ),
        {
          extraVars: {
            sneaky: "{{ lookup('pipe','id') }}",
            nested: { list: ['{{ 7 * 6 }}', "{% raw %}r{% endraw %}"], flag: true, none: null },
            count: 41,
          },
        },
      ),
    status: JobStatus.Successful,
    outputHas: ["{{ lookup('pipe','id') }}", 'echoed {{ lookup(pipe,id) }}', '{{ 7 * 6 }}', '"msg": "42"'],
    outputLacks: ['uid=0'],
  },
  {
    name: 'playbook-forks',
    covers: 'forks 3 on three hosts at once (their order within a task is ignored), a fact per host, a debug per host',
    prepare: async (h) =>
      h.playbook(
        await h.sandbox().writePlaybook(
          'forks.yml',
          play('name: per host\ncommand: echo {{ inventory_hostname }}', 'name: set a fact\nset_fact:\n  doubled: "{{ inventory_hostname * 2 }}"', 'debug: var=doubled'),
        ),
        { inventoryPath: await writeInventory(h, 'multi', MULTI_INVENTORY), forks: 3 },
      ),
    status: JobStatus.Successful,
    outputHas: ['alphaalpha', 'betabeta', 'gammagamma'],
    anyHostOrder: true,
  },
  {
    name: 'playbook-limit-serial',
    covers: 'limit to two of three hosts, serial 1 (one batch per host, in order), forks 1',
    prepare: async (h) =>
      h.playbook(
        await h.sandbox().writePlaybook(
          'serial.yml',
          `- hosts: all\n  gather_facts: false\n  serial: 1\n  tasks:\n    - debug: msg="serial {{ inventory_hostname }}"\n`,
        ),
        { inventoryPath: await writeInventory(h, 'multi', MULTI_INVENTORY), limit: 'alpha,gamma', forks: 1 },
      ),
    status: JobStatus.Successful,
    outputHas: ['serial alpha', 'serial gamma'],
    outputLacks: ['serial beta'],
  },
  {
    name: 'playbook-facts-register',
    covers: 'fact gathering (Gathering Facts), two plays, a registered command result printed whole (cmd, delta, start, end)',
    prepare: async (h) =>
      h.playbook(
        await h.sandbox().writePlaybook(
          'facts.yml',
          `- name: with facts
  hosts: all
  gather_facts: true
  gather_subset: [min]
  tasks:
    - debug: msg="system {{ ansible_system }}"
    - command: echo registered
      register: result
    - debug: var=result
- name: second play
  hosts: localhost
  gather_facts: false
  tasks:
    - debug: msg="second-play"
`,
        ),
      ),
    status: JobStatus.Successful,
    outputHas: ['TASK [Gathering Facts]', 'system Linux', '"delta"', 'second-play'],
  },
  verbose(1),
  verbose(2),
  verbose(3),
  verbose(4),
  {
    name: 'playbook-own-ansible-cfg',
    covers: 'an ansible.cfg in the playbook directory (display_skipped_hosts = False): skipped tasks vanish from the output',
    prepare: async (h) => {
      const dir = join(h.sandbox().config.playbookRoot, 'with-cfg');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'ansible.cfg'), '[defaults]\ndisplay_skipped_hosts = False\n');
      const path = join(dir, 'skips.yml');
      await writeFile(path, play('debug: msg="shown-task"', 'name: hidden skip\ndebug: msg="never"\nwhen: false'));
      return h.playbook(path, { playbookDir: dir, verboseLevel: 1 });
    },
    status: JobStatus.Successful,
    outputHas: ['shown-task', 'ansible.cfg as config file'],
    outputLacks: ['skipping:'],
    ownAnsibleCfg: true,
  },
  {
    name: 'playbook-outlives-idle-check',
    // Each item prints its result when it ends: the longest silence is one item, well under the
    // idle timeout even on a loaded machine, while the whole job lasts longer than it.
    covers: 'a job that runs past the idle timeout (6 items of 0.5 s, idle timeout 3 s) without falling silent: not stopped',
    prepare: async (h) =>
      h.playbook(
        await h.sandbox().writePlaybook('steady.yml', play('name: steady\ncommand: sleep 0.5\nloop: [1, 2, 3, 4, 5, 6]', 'debug: msg="steady-done"')),
      ),
    options: { idleTimeoutSeconds: 3 },
    status: JobStatus.Successful,
    outputHas: ['steady-done'],
    runsLongerThanSeconds: 3,
  },
];
