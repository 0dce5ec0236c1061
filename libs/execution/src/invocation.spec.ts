import { CommandJobSpec, GitJobSpec, JobKind, parseJobSpec, PlaybookJobSpec } from '@flansible/contracts';
import { buildChildEnv } from './child-env';
import { serializeExtraVars } from './extra-vars-file';
import {
  buildCommandInvocation,
  buildGitInvocations,
  buildPlaybookGitPullInvocation,
  buildPlaybookInvocation,
  InvalidJobSpecError,
  jobTimeoutSeconds,
  LIMIT_HOSTS_ENV,
} from './invocation';

const command = (overrides: Partial<CommandJobSpec> = {}): CommandJobSpec => ({
  kind: JobKind.Command,
  inventoryPath: '/srv/inventories/dev',
  hostPattern: 'web:&eu',
  module: 'find',
  ...overrides,
});

const playbook = (overrides: Partial<PlaybookJobSpec> = {}): PlaybookJobSpec => ({
  kind: JobKind.Playbook,
  inventoryPath: '/srv/inventories/dev',
  playbookDir: '/srv/playbooks/web',
  playbookPath: '/srv/playbooks/web/site.yml',
  ...overrides,
});

const git = (overrides: Partial<GitJobSpec> = {}): GitJobSpec => ({
  kind: JobKind.Git,
  repoDir: '/srv/playbooks/web',
  remote: 'origin',
  branch: 'main',
  reset: false,
  ...overrides,
});

describe('buildCommandInvocation', () => {
  it('builds ansible with --opt=value options and the host pattern after --', () => {
    const invocation = buildCommandInvocation(
      command({
        moduleArgs: { paths: '/tmp', age: '2d', recurse: true },
        forks: 7,
        verboseLevel: 3,
        become: true,
        becomeMethod: 'sudo',
        becomeUser: 'deploy',
      }),
      { extraVarsFile: '/data/tmp/job-1/extra-vars.yml' },
      '/srv/playbooks',
    );
    expect(invocation).toEqual({
      command: 'ansible',
      args: [
        '--inventory=/srv/inventories/dev',
        '--forks=7',
        '-vvv',
        '--become',
        '--become-method=sudo',
        '--become-user=deploy',
        '--extra-vars=@/data/tmp/job-1/extra-vars.yml',
        '--module-name=find',
        '--args={"paths":{"__ansible_unsafe":"/tmp"},"age":{"__ansible_unsafe":"2d"},"recurse":true}',
        '--',
        'web:&eu',
      ],
      cwd: '/srv/playbooks',
      label: 'ansible',
    });
  });

  it('marks every string of object module args as unsafe, so Ansible never templates it', () => {
    const { args } = buildCommandInvocation(
      command({ module: 'debug', moduleArgs: { msg: "{{ lookup('pipe', 'id') }}", list: ['a', 1, null], n: { x: false } } }),
      {},
      '/',
    );
    expect(args).toContain(
      '--args={"msg":{"__ansible_unsafe":"{{ lookup(\'pipe\', \'id\') }}"},"list":[{"__ansible_unsafe":"a"},1,null],"n":{"x":false}}',
    );
  });

  it('passes string module args as they are, even one starting with -', () => {
    const { args } = buildCommandInvocation(command({ module: 'shell', moduleArgs: '-la; touch /tmp/x' }), {}, '/');
    expect(args).toContain('--args=-la; touch /tmp/x');
    expect(args.slice(-2)).toEqual(['--', 'web:&eu']);
  });

  it('leaves out what is not set', () => {
    expect(buildCommandInvocation(command({ module: 'ping', verboseLevel: 0, become: false }), {}, '/').args).toEqual([
      '--inventory=/srv/inventories/dev',
      '--module-name=ping',
      '--',
      'web:&eu',
    ]);
  });

  it.each<[string, Partial<CommandJobSpec>]>([
    ['host pattern starting with -', { hostPattern: '-i/etc/passwd' }],
    ['host pattern with a newline', { hostPattern: 'a\nb' }],
    ['module with a space', { module: 'ping -a x' }],
    ['verbosity above 4', { verboseLevel: 5 }],
    ['fractional forks', { forks: 1.5 }],
    ['zero forks', { forks: 0 }],
    ['become as a string', { become: 'false' as unknown as boolean }],
    ['become user starting with -', { becomeUser: '-root' }],
    ['relative inventory', { inventoryPath: 'dev' }],
    ['module args as an array', { moduleArgs: ['a'] as unknown as string }],
  ])('refuses a %s', (_what, overrides) => {
    expect(() => buildCommandInvocation(command(overrides), {}, '/')).toThrow(InvalidJobSpecError);
  });
});

describe('buildPlaybookInvocation', () => {
  it('builds ansible-playbook in the playbook directory with the playbook after --', () => {
    const invocation = buildPlaybookInvocation(
      playbook({ forks: 2, verboseLevel: 1, become: true, vaultFile: '/srv/vault/dev.txt', extraVars: { a: 1 } }),
      { extraVarsFile: '/data/tmp/job-2/extra-vars.yml' },
    );
    expect(invocation).toEqual({
      command: 'ansible-playbook',
      args: [
        '--inventory=/srv/inventories/dev',
        '--forks=2',
        '-v',
        '--become',
        '--extra-vars=@/data/tmp/job-2/extra-vars.yml',
        '--vault-password-file=/srv/vault/dev.txt',
        '--',
        '/srv/playbooks/web/site.yml',
      ],
      cwd: '/srv/playbooks/web',
      label: 'ansible-playbook',
    });
  });

  it('never puts extra vars on the command line itself', () => {
    const { args } = buildPlaybookInvocation(playbook({ extraVars: { password: 's3cret' } }), {});
    expect(args.join(' ')).not.toContain('s3cret');
  });
});

describe('git invocations', () => {
  // Pinned to the checkout itself: never a search upward into an enclosing repository.
  const pinned = ['-C', '/srv/playbooks/web', '--git-dir=/srv/playbooks/web/.git', '--work-tree=/srv/playbooks/web'];

  it('pulls remote and branch after --, in the checkout and nowhere above it', () => {
    expect(buildGitInvocations(git())).toEqual([
      {
        command: 'git',
        args: [...pinned, 'pull', '--', 'origin', 'main'],
        cwd: '/srv/playbooks/web',
        label: 'git pull',
        env: { GIT_CEILING_DIRECTORIES: '/srv/playbooks' },
      },
    ]);
  });

  it('fetches and hard-resets to the remote-tracking ref before the pull when asked', () => {
    const steps = buildGitInvocations(git({ reset: true, branch: 'release/1.2' }));
    expect(steps.map((i) => i.args)).toEqual([
      [...pinned, 'fetch', '--', 'origin'],
      [...pinned, 'reset', '--hard', 'refs/remotes/origin/release/1.2', '--'],
      [...pinned, 'pull', '--', 'origin', 'release/1.2'],
    ]);
    for (const step of steps) expect(step.env).toEqual({ GIT_CEILING_DIRECTORIES: '/srv/playbooks' });
  });

  it.each([
    // git pull hands these to git fetch without the `--`: they must never start with `-`.
    ['remote', { remote: '--upload-pack=touch /tmp/x' }],
    ['branch', { branch: '-b' }],
    ['branch', { branch: 'a..b' }],
    ['remote', { remote: 'origin;id' }],
  ])('refuses a bad %s', (_what, overrides) => {
    expect(() => buildGitInvocations(git(overrides))).toThrow(InvalidJobSpecError);
  });

  it('updates a playbook directory with a fast-forward-only pull of its own upstream, pinned to it', () => {
    const pull = buildPlaybookGitPullInvocation('/srv/playbooks/web');
    expect(pull.args).toEqual([...pinned, 'pull', '--ff-only']);
    expect(pull.env).toEqual({ GIT_CEILING_DIRECTORIES: '/srv/playbooks' });
  });
});

describe('serializeExtraVars', () => {
  it('writes JSON-shaped YAML with every string marked !unsafe and other types kept', () => {
    expect(serializeExtraVars({ a: 'x', n: 3, f: 1e21, t: true, z: null, l: ['{{ y }}', 2], o: { k: 'v' } })).toBe(
      '{"a": !unsafe "x", "n": 3, "f": 1.0e+21, "t": true, "z": null, "l": [!unsafe "{{ y }}", 2], "o": {"k": !unsafe "v"}}\n',
    );
  });

  it('escapes characters YAML would refuse or fold', () => {
    expect(serializeExtraVars({ s: 'a\u2028b\u0085c\u0001\ud800' })).toBe('{"s": !unsafe "a\\u2028b\\u0085c\\u0001\ufffd"}\n');
  });

  it('refuses anything but an object', () => {
    expect(() => serializeExtraVars([] as unknown as Record<string, unknown>)).toThrow(InvalidJobSpecError);
  });
});

describe('buildChildEnv', () => {
  const serviceEnv = {
    PATH: '/usr/bin:/bin',
    HOME: '/home/flansible',
    LC_ALL: 'C.UTF-8',
    TZ: 'UTC',
    SSH_AUTH_SOCK: '/run/agent.sock',
    FLANSIBLE_DATABASE_URL: 'postgres://flansible:pw@db/flansible',
    FLANSIBLE_AMQP_URL: 'amqp://guest:guest@mq',
    DATABASE_URL: 'postgres://x',
    AWS_SECRET_ACCESS_KEY: 'aws',
    ANSIBLE_VAULT_PASSWORD_FILE: '/secret/vault',
    ANSIBLE_GALAXY_TOKEN: 'tok',
    ANSIBLE_HOST_KEY_CHECKING: 'False',
    ANSIBLE_TIMEOUT: '30',
    ANSIBLE_NOCOLOR: '0',
  };

  it('keeps only the allow-list, the operator’s non-secret ANSIBLE_* settings and the project’s own', () => {
    expect(buildChildEnv(serviceEnv, '/var/lib/flansible')).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/flansible',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      TZ: 'UTC',
      SSH_AUTH_SOCK: '/run/agent.sock',
      ANSIBLE_HOST_KEY_CHECKING: 'False',
      ANSIBLE_TIMEOUT: '30',
      PYTHONUNBUFFERED: '1',
      ANSIBLE_FORCE_COLOR: '0',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: '0',
      ANSIBLE_LOCAL_TEMP: '/var/lib/flansible/tmp/ansible-local',
      GIT_TERMINAL_PROMPT: '0',
    });
  });

  it('keeps the operator’s LANG', () => {
    expect(buildChildEnv({ LANG: 'de_DE.UTF-8' }, '/d').LANG).toBe('de_DE.UTF-8');
  });

  it('enables the events callback plugin on file descriptor 3 when given its directory', () => {
    expect(buildChildEnv({ PATH: '/bin' }, '/d', { callbackPluginDir: '/app/libs/execution/ansible/callback_plugins' })).toMatchObject({
      ANSIBLE_CALLBACK_PLUGINS: '/app/libs/execution/ansible/callback_plugins',
      ANSIBLE_CALLBACKS_ENABLED: 'flansible_events',
      ANSIBLE_LOAD_CALLBACK_PLUGINS: '1',
      FLANSIBLE_EVENTS_FD: '3',
    });
    expect(buildChildEnv({ PATH: '/bin' }, '/d')).not.toHaveProperty('FLANSIBLE_EVENTS_FD');
  });

  it('keeps the operator’s own callback plugins and enabled callbacks beside the events plugin', () => {
    const env = buildChildEnv(
      { ANSIBLE_CALLBACK_PLUGINS: '/etc/ansible/callbacks', ANSIBLE_CALLBACKS_ENABLED: 'profile_tasks,flansible_events' },
      '/d',
      { callbackPluginDir: '/app/cb' },
    );
    expect(env.ANSIBLE_CALLBACK_PLUGINS).toBe('/app/cb:/etc/ansible/callbacks');
    expect(env.ANSIBLE_CALLBACKS_ENABLED).toBe('flansible_events,profile_tasks');
  });
});

describe('limit, check, diff, tags', () => {
  it('puts them on the ansible-playbook command line, before the --', () => {
    const { args } = buildPlaybookInvocation(
      playbook({ limit: 'web:!web-3', check: true, diff: true, tags: ['deploy', 'config.v2'], skipTags: ['slow-ones'] }),
      {},
    );
    expect(args).toEqual([
      '--inventory=/srv/inventories/dev',
      '--limit=web:!web-3',
      '--check',
      '--diff',
      '--tags=deploy,config.v2',
      '--skip-tags=slow-ones',
      '--',
      '/srv/playbooks/web/site.yml',
    ]);
  });

  it('puts limit, check and diff on the ansible command line too', () => {
    const { args } = buildCommandInvocation(command({ module: 'ping', limit: 'eu', check: true, diff: false }), {}, '/');
    expect(args).toEqual(['--inventory=/srv/inventories/dev', '--limit=eu', '--check', '--module-name=ping', '--', 'web:&eu']);
  });

  it('leaves out empty tag lists and false flags', () => {
    const { args } = buildPlaybookInvocation(playbook({ tags: [], skipTags: [], check: false, diff: false }), {});
    expect(args).toEqual(['--inventory=/srv/inventories/dev', '--', '/srv/playbooks/web/site.yml']);
  });

  it.each<[string, Partial<PlaybookJobSpec>]>([
    ['limit starting with -', { limit: '-i/etc/passwd' }],
    ['limit with a space', { limit: 'a b' }],
    ['empty limit', { limit: '' }],
    ['check as a string', { check: 'true' as unknown as boolean }],
    ['diff as a number', { diff: 1 as unknown as boolean }],
    ['tag with a comma', { tags: ['a,b'] }],
    ['tag starting with -', { tags: ['-x'] }],
    ['tag with a space', { skipTags: ['a b'] }],
    ['tag with a shell character', { tags: ['a;b'] }],
    ['empty tag', { tags: [''] }],
    ['tag that is not a string', { tags: [1 as unknown as string] }],
    ['tags as a string', { tags: 'deploy' as unknown as string[] }],
    ['too many tags', { skipTags: Array.from({ length: 101 }, (_, i) => `t${i}`) }],
  ])('refuses a %s', (_what, overrides) => {
    expect(() => buildPlaybookInvocation(playbook(overrides), {})).toThrow(InvalidJobSpecError);
  });
});

describe('limitHosts (a relaunch)', () => {
  const hosts = ['web*', '!web1', 'db,web1', '~web', '@hosts', 'a:b', 'web[0]'];

  it('hands the host names to the launcher in a file, never on the command line, keeping the job’s own limit', () => {
    const file = '/srv/data/tmp/job-1/limit-hosts.json';
    for (const invocation of [
      buildPlaybookInvocation(playbook({ limit: 'web', limitHosts: hosts }), { limitHostsFile: file }),
      buildCommandInvocation(command({ limit: 'web', limitHosts: hosts }), { limitHostsFile: file }, '/'),
    ]) {
      expect(invocation.env).toEqual({ [LIMIT_HOSTS_ENV]: file });
      expect(invocation.args).toContain('--limit=web');
      expect(invocation.args.join(' ')).not.toMatch(/web\*|~web|@hosts/);
    }
    expect(buildCommandInvocation(command(), {}, '/').env).toBeUndefined();
    expect(buildPlaybookGitPullInvocation('/srv/playbooks/web').env).not.toHaveProperty(LIMIT_HOSTS_ENV);
  });

  it.each<[string, unknown]>([
    ['an empty list', []],
    ['a string', 'web1'],
    ['an empty name', ['']],
    ['a name with NUL', ['a\0b']],
    ['a name that is not a string', [1]],
    ['a name too long', ['x'.repeat(1025)]],
    ['too many names', Array.from({ length: 10_001 }, (_, i) => `h${i}`)],
  ])('refuses %s', (_what, limitHosts) => {
    const spec = command({ limitHosts: limitHosts as string[] });
    expect(() => buildCommandInvocation(spec, { limitHostsFile: '/tmp/x' }, '/')).toThrow(InvalidJobSpecError);
    expect(() => parseJobSpec(spec)).toThrow(InvalidJobSpecError);
  });

  it('refuses host names without their file rather than running on every host', () => {
    expect(() => buildPlaybookInvocation(playbook({ limitHosts: ['web1'] }), {})).toThrow('limitHosts needs its file');
  });
});

describe('jobTimeoutSeconds', () => {
  it('reads the job’s own limit, none when unset', () => {
    expect(jobTimeoutSeconds({ timeoutSeconds: 30 })).toBe(30);
    expect(jobTimeoutSeconds({})).toBeUndefined();
  });

  it.each([0, -5, 1.5, '30', 8 * 24 * 3600])('refuses %p', (timeoutSeconds) => {
    expect(() => jobTimeoutSeconds({ timeoutSeconds })).toThrow(InvalidJobSpecError);
  });
});
