import { JobSpec, JobStatus, LaunchPath, NewJobEvent, TerminalJobStatus } from '@flansible/contracts';
import { execFile } from 'node:child_process';
import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ExecuteJobOptions } from '../job-executor';
import { LOCAL_INVENTORY } from './ansible-sandbox';
import { JobExecutorHarness, play } from './job-executor-harness';
import { RunRecord } from './normalise-run';

/**
 * The differential suite's corpus (warm-runner.differential.integration-spec.ts): jobs that each
 * run once through every launch path under test, whose runs must come out equal after
 * normalisation (normalise-run.ts). Each job writes its own files into the sandbox of the side
 * that runs it, so two sides never share a file; within one side the jobs run in corpus order.
 */
export interface CorpusJob {
  /** Names the test, and the job's files in the sandbox. */
  name: string;
  /** What the job exercises. */
  covers: string;
  /** Writes what the job needs into the harness's sandbox and returns its spec. */
  prepare(h: JobExecutorHarness): Promise<JobSpec>;
  /** Executor options for the run (idle timeout, ...). */
  options?: Partial<ExecuteJobOptions>;
  /** The status the job ends with, on every path: proves the job does what `covers` says. */
  status: TerminalJobStatus;
  /** Texts the (raw) output must hold, on every path: the same proof. */
  outputHas?: string[];
  /** Texts the (raw) output must not hold. */
  outputLacks?: string[];
  /**
   * The job runs on several hosts at once (forks > 1): the order in which their results of one
   * task arrive is up to the operating system, so the comparison ignores it (normalise-run.ts's
   * anyHostOrder). Everything else is still compared.
   */
  anyHostOrder?: true;
  /** The playbook directory holds its own ansible.cfg: the warm runner hands such jobs to the cold path. */
  ownAnsibleCfg?: true;
  /** The run must last longer than this many seconds (a job that outlives a timer). */
  runsLongerThanSeconds?: number;
}

const execFileAsync = promisify(execFile);

/** Writes an inventory into the sandbox's inventory root and returns its path. */
async function writeInventory(h: JobExecutorHarness, name: string, text: string): Promise<string> {
  const path = join(h.sandbox().config.inventoryRoot, name);
  await writeFile(path, text);
  return path;
}

/** A directory inside the sandbox (outside every configured root) for files jobs create. */
async function filesDir(h: JobExecutorHarness): Promise<string> {
  const dir = join(h.sandbox().root, 'files');
  await mkdir(dir, { recursive: true });
  return dir;
}

const PYTHON = 'ansible_python_interpreter="{{ ansible_playbook_python }}"';

/** Three hosts, all this machine over the local connection. */
const MULTI_INVENTORY = ['alpha', 'beta', 'gamma'].map((h) => `${h} ansible_connection=local ${PYTHON}\n`).join('');

/**
 * localhost, and a host over ssh where nothing listens: connection refused, at once. No ssh
 * master connection: the two sides run this job at once, and would share its control socket.
 */
const UNREACHABLE_INVENTORY = `${LOCAL_INVENTORY}nowhere ansible_host=127.0.0.2 ansible_port=1 ansible_connection=ssh ansible_ssh_args="-o ControlMaster=no -o ConnectTimeout=5"\n`;

/** A playbook with something for every verbosity to say: a module run, a skip, a loop. */
const VERBOSE_PLAYBOOK = play(
  'name: run a command\ncommand: echo verbose-marker',
  'name: skip one\ndebug: msg="never"\nwhen: false',
  'name: loop twice\ndebug: msg="item {{ item }}"\nloop: [one, two]',
);

/** What each verbosity adds to the output, and a line that shows it. */
const VERBOSITY: Record<number, readonly [string, string]> = {
  1: ['the config file line, every result as JSON (delta, start, end)', 'No config file found'],
  2: ['the version header (paths of Ansible and its Python), task paths', 'task path: '],
  3: ['the inventory parsing, the connection, its commands, the remote and local temporary files', 'ESTABLISH LOCAL CONNECTION'],
  4: ['the callback plugins loaded (ours too), the playbook\'s options', 'Loading callback plugin flansible_events'],
};

const verbose = (level: number): CorpusJob => ({
  name: `playbook-verbose-${level}`,
  covers: `verboseLevel ${level} (-${'v'.repeat(level)}): ${VERBOSITY[level][0]}`,
  prepare: async (h) => h.playbook(await h.sandbox().writePlaybook(`verbose-${level}.yml`, VERBOSE_PLAYBOOK), { verboseLevel: level }),
  status: JobStatus.Successful,
  outputHas: ['verbose-marker', VERBOSITY[level][1]],
});

/** Tasks untagged, tagged deploy, config and always. */
const TAGGED_PLAYBOOK = play(
  'debug: msg="untagged-task"',
  'debug: msg="deploy-task"\ntags: [deploy]',
  'debug: msg="config-task"\ntags: [config]',
  'debug: msg="always-task"\ntags: [always]',
);

export const DIFFERENTIAL_CORPUS: CorpusJob[] = [
  // ad-hoc commands
  {
    name: 'adhoc-ping',
    covers: 'the ping module, the simplest ad-hoc job',
    prepare: async (h) => h.command(),
    status: JobStatus.Successful,
    outputHas: ['localhost | SUCCESS', '"ping": "pong"'],
  },
  {
    name: 'adhoc-command',
    covers: 'the command module: CHANGED, its rc and stdout in the one-line ad-hoc form',
    prepare: async (h) => h.command({ module: 'command', moduleArgs: 'echo hello-from-command' }),
    status: JobStatus.Successful,
    outputHas: ['localhost | CHANGED | rc=0 >>', 'hello-from-command'],
  },
  {
    name: 'adhoc-command-verbose',
    covers: 'an ad-hoc command at -vvv: the connection, its commands and the remote and local temporary files',
    prepare: async (h) => h.command({ module: 'command', moduleArgs: 'printf "a\\nb\\n"', verboseLevel: 3 }),
    status: JobStatus.Successful,
    outputHas: ['ESTABLISH LOCAL CONNECTION', 'AnsiballZ_command.py'],
  },
  {
    name: 'adhoc-shell',
    covers: 'the shell module as an admin (unrestricted): stdout and stderr, pipes, arithmetic',
    prepare: async (h) =>
      h.command({ module: 'shell', moduleArgs: 'echo out-line; echo err-line >&2; echo $((6 * 7)) | tr 4 X', unrestricted: true }),
    status: JobStatus.Successful,
    outputHas: ['out-line', 'err-line', 'X2'],
  },
  {
    name: 'adhoc-setup-minimal',
    covers: 'the setup module, gather_subset minimal: date_time, env and other facts that change between runs',
    prepare: async (h) => h.command({ module: 'setup', moduleArgs: 'gather_subset=min' }),
    status: JobStatus.Successful,
    outputHas: ['"ansible_date_time"', '"ansible_env"'],
  },
  {
    name: 'adhoc-copy',
    covers: 'the copy module with content: checksum, owner, mode, and the uploaded temporary source',
    prepare: async (h) =>
      h.command({ module: 'copy', moduleArgs: { content: 'copied content\n', dest: join(await filesDir(h), 'copy-target.txt'), mode: '0640' } }),
    status: JobStatus.Successful,
    outputHas: ['localhost | CHANGED', '"checksum"'],
  },
  {
    name: 'adhoc-copy-again',
    covers: 'the copy module on a file already up to date: ok, not changed',
    prepare: async (h) =>
      h.command({ module: 'copy', moduleArgs: { content: 'copied content\n', dest: join(await filesDir(h), 'copy-target.txt'), mode: '0640' } }),
    status: JobStatus.Successful,
    outputHas: ['localhost | SUCCESS'],
  },
  {
    name: 'adhoc-file',
    covers: 'the file module: a directory with a mode',
    prepare: async (h) => h.command({ module: 'file', moduleArgs: `path=${join(await filesDir(h), 'made-dir')} state=directory mode=0750` }),
    status: JobStatus.Successful,
    outputHas: ['"state": "directory"', '"mode": "0750"'],
  },
  {
    name: 'adhoc-command-fails',
    covers: 'a failing command (/bin/false): FAILED, rc 1, the job failed with return code 2',
    prepare: async (h) => h.command({ module: 'command', moduleArgs: '/bin/false' }),
    status: JobStatus.Failed,
    outputHas: ['localhost | FAILED | rc=1 >>'],
  },
  {
    name: 'adhoc-missing-file',
    covers: 'a module failure without a return code: the file module on a missing file',
    prepare: async (h) => h.command({ module: 'file', moduleArgs: `path=${join(await filesDir(h), 'no-such-file')} state=file` }),
    status: JobStatus.Failed,
    outputHas: ['localhost | FAILED! =>', 'is absent, cannot continue'],
  },
  {
    name: 'adhoc-unreachable',
    covers: 'an unreachable host (ssh to 127.0.0.2:1, connection refused) beside a reachable one',
    prepare: async (h) =>
      h.command({ inventoryPath: await writeInventory(h, 'unreachable', UNREACHABLE_INVENTORY), hostPattern: 'all', forks: 1 }),
    status: JobStatus.Failed,
    outputHas: ['nowhere | UNREACHABLE!', 'Connection refused', 'localhost | SUCCESS'],
  },

  // playbooks
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

/** Runs one corpus job through a harness, with events: what the comparison reads. */
export async function runCorpusJob(h: JobExecutorHarness, job: CorpusJob): Promise<RunRecord & { launchPath: LaunchPath | null }> {
  const spec = await job.prepare(h);
  const events: NewJobEvent[] = [];
  const started = Date.now();
  const { outcome, output, launchPath } = await h.execute(spec, {
    appendEvents: async (batch) => void events.push(...batch),
    ...job.options,
  });
  const elapsedMs = Date.now() - started;
  const { root } = h.sandbox();
  return { outcome, output, events, roots: [...new Set([root, await realpath(root)])], elapsedMs, launchPath };
}
