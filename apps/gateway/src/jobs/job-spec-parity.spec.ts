import { BadRequestException, Type } from '@nestjs/common';
import { JOB_MESSAGE_SCHEMA_VERSION, JobKind, JobSpec, parseJobMessage } from '@flansible/contracts';
import {
  buildCommandInvocation,
  buildGitInvocations,
  buildPlaybookInvocation,
  jobTimeoutSeconds,
  serializeExtraVars,
} from '@flansible/execution';
import { StrictValidationPipe } from '../common/validation.pipe';
import { GitUpdateDto } from './dto/git-update.dto';
import { SubmitCommandJobDto, SubmitPlaybookJobDto } from './dto/submit-job.dto';

/**
 * The same edge values, fed to both ends: the gateway's request validation (StrictValidationPipe
 * over the DTO) and the runner's (parseJobMessage on the message off the bus, then the code that
 * builds the argv). Each value must be accepted by both or refused by both, as listed.
 */
type Kind = 'command' | 'playbook' | 'git';

const REQUEST: Record<Kind, [Type<unknown>, Record<string, unknown>]> = {
  command: [SubmitCommandJobDto, { host_pattern: 'localhost', module: 'ping' }],
  playbook: [SubmitPlaybookJobDto, { playbook_dir: 'app', playbook: 'ok.yml' }],
  git: [GitUpdateDto, { playbook_dir: 'repo' }],
};

const SPEC: Record<Kind, Record<string, unknown>> = {
  command: { kind: JobKind.Command, inventoryPath: '/srv/inventories/dev', hostPattern: 'localhost', module: 'ping' },
  playbook: { kind: JobKind.Playbook, inventoryPath: '/srv/inventories/dev', playbookDir: '/srv/playbooks/app', playbookPath: '/srv/playbooks/app/ok.yml' },
  git: { kind: JobKind.Git, repoDir: '/srv/playbooks/repo', remote: 'origin', branch: 'master', reset: false },
};

/** What of the runner reads the field besides the message parser; by default the argv builder of its kind. */
const BUILD: Record<Kind, (spec: JobSpec) => unknown> = {
  command: (spec) => buildCommandInvocation(spec as Extract<JobSpec, { kind: 'command' }>, {}, '/srv/playbooks'),
  playbook: (spec) => buildPlaybookInvocation(spec as Extract<JobSpec, { kind: 'playbook' }>, {}),
  git: (spec) => buildGitInvocations(spec as Extract<JobSpec, { kind: 'git' }>),
};

const pipe = new StrictValidationPipe();

/** A test name: long runs of one character and long lists shortened. */
const label = (value: unknown): string =>
  Array.isArray(value) && value.length > 10
    ? `[${value.length} entries]`
    : JSON.stringify(value).replace(/(.)\1{9,}/g, (run, c: string) => `${c}×${run.length}`);

async function gatewayAccepts(kind: Kind, field: string, value: unknown): Promise<boolean> {
  const [metatype, body] = REQUEST[kind];
  try {
    await pipe.transform({ ...body, [field]: value }, { type: 'body', metatype });
    return true;
  } catch (err) {
    if (err instanceof BadRequestException) return false;
    throw err;
  }
}

const succeeds = (run: () => unknown): boolean => {
  try {
    run();
    return true;
  } catch {
    return false;
  }
};

function runnerAccepts(kind: Kind, field: string, value: unknown, reader: Field['reader']): boolean {
  // As over the wire: what JSON carries, nothing more.
  const message = JSON.parse(
    JSON.stringify({
      schemaVersion: JOB_MESSAGE_SCHEMA_VERSION,
      jobId: '5b0c2d4e-8f1a-4b3c-9d2e-7f6a5b4c3d2e',
      submittedBy: 'alice',
      submittedAt: new Date(0).toISOString(),
      spec: { ...SPEC[kind], [field]: value },
    }),
  ) as { spec: JobSpec };
  const parsed = succeeds(() => parseJobMessage(message));
  const read = reader === null ? parsed : succeeds(() => (reader ?? BUILD[kind])(message.spec));
  // The message parser and the argv builder never disagree either.
  expect({ parsed, read }).toEqual({ parsed: read, read });
  return parsed;
}

interface Field {
  kind: Kind;
  /** The request's field and the spec's. */
  request: string;
  spec: string;
  accepted: unknown[];
  refused: unknown[];
  /** What besides parseJobMessage reads it (null: nothing does). */
  reader?: ((spec: JobSpec) => unknown) | null;
}

const GOOD_TAGS = ['web:nginx', 'a.b-c_d', 'alpha', '_x', '9', 'a'.repeat(100)];
const BAD_TAGS = ['-x', '.x', ':x', 'a,b', ' a', 'a ', 'a b', '', 'a'.repeat(101), 'ñ', 'web\u200b', 'ｗｅｂ', 'a;b', 'a\nb', 1, null];
const HOST_PATTERNS = ['localhost', 'web:&eu', 'all:!db1', 'web[0:3]', '~web.*', 'a,b', '*.example.com', 'a'.repeat(1024)];
const BAD_HOST_PATTERNS = ['-i', '--version', '@/etc/passwd', 'all:@x', 'a b', '', 'a'.repeat(1025), 'höst', 'a\nb', 'a\u0000b', '~web\\d+', 7];
const hundred = Array.from({ length: 100 }, (_, i) => `t${i}`);

const FIELDS: Field[] = [
  { kind: 'playbook', request: 'tags', spec: 'tags', accepted: GOOD_TAGS.map((t) => [t]), refused: BAD_TAGS.map((t) => [t]) },
  { kind: 'playbook', request: 'skip_tags', spec: 'skipTags', accepted: [['web:nginx', 'beta'], [], null, hundred], refused: [[...hundred, 'x'], 'web', {}, ['ok', '-x']] },
  {
    kind: 'command',
    request: 'module',
    spec: 'module',
    accepted: ['ping', 'ansible.builtin.ping', 'community.general.x', 'a.b.c.d', '_private'],
    refused: ['a..b', '-m', '.ping', 'ping.', 'a.b.c.d.e', '1ping', 'pi\u00f1g', 'ping -a x', '', 5, null],
  },
  { kind: 'command', request: 'host_pattern', spec: 'hostPattern', accepted: HOST_PATTERNS, refused: [...BAD_HOST_PATTERNS, null] },
  { kind: 'playbook', request: 'limit', spec: 'limit', accepted: [...HOST_PATTERNS, null], refused: BAD_HOST_PATTERNS },
  { kind: 'command', request: 'become_method', spec: 'becomeMethod', accepted: ['sudo', 'community.general.pbrun', 'a'.repeat(100), null], refused: ['-x', 'su do', 'a'.repeat(101), '', 1] },
  { kind: 'playbook', request: 'become_user', spec: 'becomeUser', accepted: ['root', 'deploy@corp', 'a.b-c', 'a'.repeat(64), null], refused: ['-K', 'r\u200boot', 'a'.repeat(65), '', false] },
  { kind: 'command', request: 'forks', spec: 'forks', accepted: [1, 500, null], refused: [0, 501, 10_000, 1.5, -1, '5', true] },
  { kind: 'playbook', request: 'verbose_level', spec: 'verboseLevel', accepted: [0, 4, null], refused: [5, -1, 2.5, '1'] },
  { kind: 'playbook', request: 'timeout', spec: 'timeoutSeconds', accepted: [1, 604_800], refused: [0, 604_801, 1.5, '60'], reader: (spec) => jobTimeoutSeconds(spec) },
  { kind: 'command', request: 'priority', spec: 'priority', accepted: [0, 9, null], refused: [10, -1, 0.5, '1'], reader: null },
  { kind: 'command', request: 'become', spec: 'become', accepted: [true, false, null], refused: ['false', 1] },
  { kind: 'playbook', request: 'check', spec: 'check', accepted: [true, false], refused: ['true', 0] },
  { kind: 'playbook', request: 'diff', spec: 'diff', accepted: [true, null], refused: ['yes'] },
  { kind: 'playbook', request: 'update_git_repo', spec: 'updateGitRepo', accepted: [true, false, null], refused: [1, 'true'], reader: null },
  {
    kind: 'command',
    request: 'module_args',
    spec: 'moduleArgs',
    accepted: ['a=b', '-la', { a: 1 }, {}, null],
    refused: ['{{ x }}', 'msg={% if 1 %}x{% endif %}', '{# x #}', 'a\u0000b', ['a'], 5],
  },
  {
    kind: 'playbook',
    request: 'extra_vars',
    spec: 'extraVars',
    accepted: [{}, { a: { b: [1, 'x'] } }, null],
    refused: [[], 'a=b', 5],
    reader: (spec) => (spec as { extraVars?: unknown }).extraVars == null || serializeExtraVars((spec as { extraVars: Record<string, unknown> }).extraVars),
  },
  // Paths: the request's absolute ones, which the gateway resolves to themselves.
  { kind: 'playbook', request: 'playbook_dir', spec: 'playbookDir', accepted: ['/srv/a b', '/srv/a,b', `/${'a'.repeat(4095)}`], refused: ['/srv/a\nb', '/srv/a\u0000b', `/${'a'.repeat(4096)}`, '', 3] },
  { kind: 'playbook', request: 'vault_file', spec: 'vaultFile', accepted: ['/srv/vault/dev.pass', null], refused: ['/srv/vault/a\rb', ''] },
  { kind: 'playbook', request: 'inventory', spec: 'inventoryPath', accepted: ['/srv/inventories/dev'], refused: ['/srv/inventories/a,b', '/srv/inventories/dev\n', ''] },
  { kind: 'git', request: 'remote_name', spec: 'remote', accepted: ['origin', 'up-stream.2'], refused: ['-x', '--upload-pack=x', 'or\u00edgin', 'a/b', ''] },
  {
    kind: 'git',
    request: 'branch_name',
    spec: 'branch',
    accepted: ['main', 'release/1.2', 'feature/x-y'],
    refused: ['a..b', 'x.lock', '-b', 'a//b', 'x/', 'x.', 'ma\nster', 'a@{1}', ''],
  },
  { kind: 'git', request: 'reset', spec: 'reset', accepted: [true, false, null], refused: ['yes', 1] },
];

describe.each(FIELDS)('$kind $request (spec $spec)', ({ kind, request, spec, accepted, refused, reader }) => {
  const cases = [...accepted.map((v) => [label(v), 'accepted', v] as const), ...refused.map((v) => [label(v), 'refused', v] as const)];

  it.each(cases)('%s is %s by the gateway and by the runner', async (_label, verdict, value) => {
    const expected = verdict === 'accepted';
    const gateway = await gatewayAccepts(kind, request, value);
    const runner = runnerAccepts(kind, spec, value, reader);
    expect({ gateway, runner }).toEqual({ gateway: expected, runner: expected });
  });
});

describe('parseJobMessage', () => {
  const message = (overrides: Record<string, unknown> = {}) => ({
    schemaVersion: JOB_MESSAGE_SCHEMA_VERSION,
    jobId: 'job-1',
    submittedBy: 'alice',
    submittedAt: new Date(0).toISOString(),
    spec: SPEC.playbook,
    ...overrides,
  });

  it('returns the message itself, so its spec still compares equal to the stored one', () => {
    const valid = message({ spec: { ...SPEC.playbook, tags: ['web:nginx'] } });
    expect(parseJobMessage(valid)).toBe(valid);
    const traced = message({ requestId: 'trace-42.a:b' });
    expect(parseJobMessage(traced)).toBe(traced);
  });

  it.each<[string, unknown, RegExp]>([
    ['another schema version', message({ schemaVersion: 2 }), /schema version 2 is not 1/],
    ['no schema version', message({ schemaVersion: undefined }), /schema version undefined/],
    ['no job id', message({ jobId: '' }), /jobId must be a non-empty string/],
    ['a bad date', message({ submittedAt: 'yesterday' }), /submittedAt must be an ISO date/],
    ['an unknown envelope field', message({ command: 'id' }), /has no field command/],
    ['an unknown kind', message({ spec: { kind: 'shell' } }), /Unknown job kind: "shell"/],
    ['a field of another kind', message({ spec: { ...SPEC.playbook, module: 'shell' } }), /A playbook job has no field module/],
    ['a relative path', message({ spec: { ...SPEC.playbook, playbookPath: 'ok.yml' } }), /playbookPath must be an absolute path/],
    ['a bad tag', message({ spec: { ...SPEC.playbook, tags: ['-x'] } }), /^tags entry must be a tag name/],
    ['an array', [], /must be a JSON object/],
    ['a request id with spaces', message({ requestId: 'a b' }), /requestId must be a request id/],
    ['a request id that is no string', message({ requestId: 42 }), /requestId must be a request id/],
  ])('refuses %s', (_what, value, reason) => {
    expect(() => parseJobMessage(value)).toThrow(reason);
  });
});
