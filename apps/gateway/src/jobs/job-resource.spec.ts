import { JobKind, JobStatus } from '@flansible/contracts';
import { JobRecord } from '@flansible/store';
import { hideArgumentValues, toJobResource } from './job-resource';

const job = (moduleArgs: string | Record<string, unknown>): JobRecord => ({
  id: 'job-1',
  kind: JobKind.Command,
  status: JobStatus.Queued,
  reason: null,
  returnCode: null,
  submittedBy: 'alice',
  inventory: '/srv/inventories/dev',
  spec: { kind: JobKind.Command, inventoryPath: '/srv/inventories/dev', hostPattern: 'all', module: 'user', moduleArgs },
  runnerId: null,
  createdAt: new Date(0),
  startedAt: null,
  finishedAt: null,
  priority: 0,
  cancelRequestedAt: null,
  outputLines: 0,
  eventCount: 0,
  cancelReason: null,
  requestId: null,
  relaunchOf: null,
  launchPath: null,
});

describe('hideArgumentValues', () => {
  it('keeps the keys of an object and hides every value, nested ones included', () => {
    expect(hideArgumentValues({ name: 'bob', password: 's3cret', opts: { token: 'x' } })).toEqual({
      name: '<hidden>',
      password: '<hidden>',
      opts: '<hidden>',
    });
  });

  it.each([
    ['dest=/etc/app.conf src=/tmp/app.conf', 'dest=<hidden> src=<hidden>'],
    ['name=bob password="two words s3cret" state=present', 'name=<hidden> password=<hidden> state=<hidden>'],
    ["content='a b' mode=0600", 'content=<hidden> mode=<hidden>'],
    ['mysql -u root -ps3cret chdir=/tmp', '<hidden> chdir=<hidden>'],
    ['echo s3cret', '<hidden>'],
    ['', ''],
  ])('hides the values of %j', (args, shown) => {
    expect(hideArgumentValues(args)).toBe(shown);
  });
});

describe('toJobResource', () => {
  it('shows module_args as submitted only when the view allows it', () => {
    const record = job('name=bob password=s3cret');
    expect(toJobResource(record, { showArgumentValues: true }).request.module_args).toBe('name=bob password=s3cret');
    const hidden = toJobResource(record, { showArgumentValues: false });
    expect(hidden.request).toMatchObject({ module: 'user', module_args: 'name=<hidden> password=<hidden>' });
    expect(JSON.stringify(hidden)).not.toContain('s3cret');
  });
});
