import { configWith, parseWebhookHostRule, WebhookHostRule } from '@flansible/config';
import { embeddedIPv4, nonPublicRange } from './address-ranges';
import { ResolvedAddress, WebhookResolver } from './webhook-resolver';
import { WebhookTargetPolicy, WebhookTargetRefused } from './webhook-target.policy';

/** Answers for names, as a DNS server would give them; any other name does not resolve. */
class ScriptedResolver extends WebhookResolver {
  constructor(readonly answers: Record<string, ResolvedAddress[]>) {
    super();
  }
  override async resolve(host: string): Promise<ResolvedAddress[]> {
    const answer = this.answers[host];
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return answer;
  }
}

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });
const rules = (...entries: string[]) => entries.map((e) => parseWebhookHostRule(e) as WebhookHostRule);

function policy(allowed: string[] = [], answers: Record<string, ResolvedAddress[]> = {}): WebhookTargetPolicy {
  return new WebhookTargetPolicy(configWith({ webhookAllowedHosts: rules(...allowed) }), new ScriptedResolver(answers));
}

const refusal = (p: WebhookTargetPolicy, url: string) =>
  p.check(url).then(
    () => null,
    (err: unknown) => (err instanceof WebhookTargetRefused ? err.message : `unexpected ${String(err)}`),
  );

describe('nonPublicRange', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.31.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'CGNAT'],
    ['169.254.169.254', 'metadata'],
    ['169.254.10.10', 'link-local'],
    ['100.100.100.200', 'metadata'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd00:ec2::254', 'metadata'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['2001:0:4136:e378::1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['::127.0.0.1', 'reserved'],
  ])('puts %s in the %s range', (address, range) => {
    expect(nonPublicRange(address)).toBe(range);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8'])(
    'finds %s public',
    (address) => {
      expect(nonPublicRange(address)).toBeNull();
    },
  );

  it('reads the IPv4 inside mapped, NAT64 and 6to4 addresses, and none inside others', () => {
    expect(['::ffff:10.0.0.1', '::ffff:a00:1', '64:ff9b::a00:1', '2002:0a00:0001::1'].map(embeddedIPv4)).toEqual(['10.0.0.1', '10.0.0.1', '10.0.0.1', '10.0.0.1']);
    expect(embeddedIPv4('2606:4700::1111')).toBeNull();
    expect(embeddedIPv4('10.0.0.1')).toBeNull();
  });
});

describe('WebhookTargetPolicy', () => {
  it('accepts a public https or http URL and keeps the addresses it checked', async () => {
    const p = policy([], { 'hooks.example.com': [v4('93.184.215.14'), v6('2606:2800:21f:cb07:6820:80da:af6b:8b2c')] });
    const target = await p.check('https://Hooks.Example.com./flansible?token=x');
    expect(target).toMatchObject({ host: 'hooks.example.com', addresses: [v4('93.184.215.14'), v6('2606:2800:21f:cb07:6820:80da:af6b:8b2c')] });
    expect(target.url.pathname + target.url.search).toBe('/flansible?token=x');
    expect(await refusal(p, 'http://93.184.215.14:8080/hook')).toBeNull();
  });

  it.each([
    ['http://127.0.0.1/', /127\.0\.0\.1 is a loopback address/],
    ['http://127.1/', /127\.0\.0\.1 is a loopback address/],
    ['http://0x7f000001/', /127\.0\.0\.1 is a loopback address/],
    ['http://2130706433/', /127\.0\.0\.1 is a loopback address/],
    ['http://0177.0.0.1/', /127\.0\.0\.1 is a loopback address/],
    ['http://[::ffff:127.0.0.1]/', /::ffff:7f00:1 is a loopback address/],
    ['http://[::1]:8080/', /::1 is a loopback address/],
    ['http://[::]/', /:: is an unspecified address/],
    ['http://0.0.0.0:3000/', /0\.0\.0\.0 is an unspecified address/],
    ['http://localhost/', /localhost resolves to a loopback address/],
    ['http://localhost./', /localhost resolves to a loopback address/],
    ['http://LOCALHOST:3000/', /localhost resolves to a loopback address/],
    ['http://api.localhost/', /api\.localhost resolves to a loopback address/],
    ['http://169.254.169.254/latest/meta-data/', /metadata address/],
    ['http://[fd00:ec2::254]/', /metadata address/],
    ['http://10.0.0.5/', /private address/],
    ['http://192.168.0.1/', /private address/],
    ['http://100.64.1.1/', /CGNAT address/],
    ['http://[fe80::1]/', /link-local address/],
    ['http://[fd00::1]/', /unique-local address/],
    ['https://example.com@127.0.0.1/', /must not contain credentials/],
    ['https://user:pass@example.com/', /must not contain credentials/],
    ['ftp://example.com/', /must use http or https, not ftp/],
    ['file:///etc/passwd', /must use http or https, not file/],
    ['gopher://127.0.0.1:6379/_INFO', /must use http or https, not gopher/],
    ['javascript:alert(1)', /must use http or https, not javascript/],
    ['//example.com/hook', /must be an absolute http/],
    ['not a url', /must be an absolute http/],
    ['https://no-such-host.invalid/', /no-such-host\.invalid does not resolve/],
  ])('refuses %s', async (url, message) => {
    expect(await refusal(policy(), url)).toMatch(message);
  });

  it('refuses a name any of whose addresses is not public, however the resolver orders them', async () => {
    const p = policy([], { 'mixed.example': [v4('93.184.215.14'), v4('10.0.0.7')], 'rebind.example': [v6('::ffff:169.254.169.254')] });
    expect(await refusal(p, 'https://mixed.example/')).toMatch(/mixed\.example resolves to a private address/);
    expect(await refusal(p, 'https://rebind.example/')).toMatch(/resolves to a metadata address/);
  });

  it('lets webhook_allowed_hosts allow a host by name, or addresses by range', async () => {
    const p = policy(['127.0.0.1', 'hooks.internal', '10.20.0.0/16', 'fd00::/8'], { 'hooks.internal': [v4('10.9.9.9')], 'svc.internal': [v4('10.20.3.4')] });
    for (const url of ['http://127.0.0.1:8080/hook', 'http://hooks.internal/', 'http://HOOKS.internal./', 'http://svc.internal/', 'http://10.20.0.1/', 'http://[fd00::1]/']) {
      expect([url, await refusal(p, url)]).toEqual([url, null]);
    }
    // Only what it names: the rest of loopback, and ::1, stay refused; so does a URL naming 127.0.0.1 by another name.
    expect(await refusal(p, 'http://127.0.0.2/')).toMatch(/loopback/);
    expect(await refusal(p, 'http://[::1]/')).toMatch(/loopback/);
    expect(await refusal(p, 'http://localhost/')).toMatch(/loopback/);
    expect(await refusal(p, 'http://10.21.0.1/')).toMatch(/private/);
  });

  it('refuses an overlong URL', async () => {
    expect(await refusal(policy(), `https://example.com/${'a'.repeat(2048)}`)).toMatch(/at most 2048 characters/);
  });
});
