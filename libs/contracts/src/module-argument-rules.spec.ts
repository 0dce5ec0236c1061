import { controllerSideUse, isAnsibleTrue, moduleArgumentKeys, moduleRuleKey } from './module-argument-rules';

describe('module argument rules', () => {
  it.each<[string, string | Record<string, unknown> | undefined, RegExp]>([
    ['copy', { src: '/root/.ssh/id_rsa', dest: '/tmp/x' }, /^Module copy parameter src reads a file on the Flansible host/],
    ['ansible.builtin.copy', { src: '/etc/shadow', dest: '/tmp/x', remote_src: false }, /parameter src/],
    ['ansible.legacy.copy', 'src=/etc/shadow dest=/tmp/x', /parameter src/],
    ['copy', 'dest=/tmp/x  src="/etc/shadow"', /parameter src/],
    ['copy', 'src=/etc/shadow dest=/tmp/x remote_src=yes remote_src=no', /parameter src/],
    ['copy', { src: '/etc/shadow', dest: '/tmp/x', remote_src: 'off' }, /parameter src/],
    ['uri', { url: 'http://example.test', src: '/etc/shadow' }, /Module uri parameter src/],
    ['unarchive', 'src=/srv/a.tgz dest=/tmp', /Module unarchive parameter src/],
    ['assemble', { src: '/etc', dest: '/tmp/x', remote_src: false }, /Module assemble parameter src/],
    ['ansible.posix.patch', { src: '/etc/shadow', dest: '/tmp/x' }, /parameter src/],
    ['template', { src: 'a.j2', dest: '/tmp/x' }, /^Module template reads a file/],
    ['ansible.builtin.script', '/etc/evil.sh', /^Module ansible.builtin.script reads a file/],
    ['fetch', undefined, /^Module fetch writes files on the Flansible host/],
    ['include_vars', 'file=/etc/secrets.yml', /^Module include_vars/],
    ['ansible.posix.synchronize', { src: '/etc', dest: '/tmp' }, /^Module ansible.posix.synchronize/],
    ['debug', "var=lookup('pipe','id')", /^Module debug parameter var is evaluated as a Jinja expression/],
    ['debug', { var: "lookup('pipe','id')" }, /parameter var/],
    ['assert', { that: ["lookup('pipe','id')"] }, /^Module assert parameter that/],
    ['package', { name: 'x', use: 'ansible.builtin.command' }, /^Module package parameter use runs another module/],
    ['service', 'name=x use=ansible.builtin.shell', /Module service parameter use/],
    ['yum', { name: 'x', use_backend: 'dnf' }, /Module yum parameter use_backend/],
  ])('refuses %s %j', (module, args, reason) => {
    expect(controllerSideUse(module, args)).toMatch(reason);
  });

  it.each<[string, string | Record<string, unknown> | undefined]>([
    ['copy', { content: 'hello', dest: '/tmp/x' }],
    ['copy', { src: '/tmp/on-target', dest: '/tmp/x', remote_src: true }],
    ['copy', 'src=/tmp/on-target dest=/tmp/x remote_src=True'],
    ['assemble', { src: '/etc/on-target.d', dest: '/tmp/x' }],
    ['debug', { msg: 'hello' }],
    ['debug', 'msg=hello'],
    ['package', { name: 'nginx', state: 'present' }],
    ['ping', undefined],
    ['community.general.copy', { src: '/etc/shadow' }],
  ])('allows %s %j', (module, args) => {
    expect(controllerSideUse(module, args)).toBeNull();
  });

  it("reads every key Ansible's parse_kv could read from a string", () => {
    expect(moduleArgumentKeys('src=/a dest="/b c" \tmode=0644 free text')).toEqual(['src', 'dest', 'mode']);
    expect(moduleArgumentKeys({ a: 1, b: 2 })).toEqual(['a', 'b']);
    expect(moduleArgumentKeys(undefined)).toEqual([]);
  });

  it("reads booleans and module names as Ansible does", () => {
    for (const yes of [true, 1, 'yes', 'True', ' on ', 't', 'y', '1']) expect(isAnsibleTrue(yes)).toBe(true);
    for (const no of [false, 0, 'no', 'off', 'false', '', null, 2]) expect(isAnsibleTrue(no)).toBe(false);
    expect(moduleRuleKey('ansible.builtin.copy')).toBe('copy');
    expect(moduleRuleKey('ansible.legacy.copy')).toBe('copy');
    expect(moduleRuleKey('ansible.posix.patch')).toBe('ansible.posix.patch');
  });
});
