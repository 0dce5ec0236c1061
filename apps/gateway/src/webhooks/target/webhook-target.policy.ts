import { Injectable } from '@nestjs/common';
import { BlockList, isIP } from 'node:net';
import { FlansibleConfig, normalizeHost } from '@flansible/config';
import { WebhookLimits } from '@flansible/contracts';
import { canonicalAddress, nonPublicRange } from './address-ranges';
import { ResolvedAddress, WebhookResolver } from './webhook-resolver';

/** A URL no webhook may use; the message is the one line a 400 (or a failed attempt) shows. */
export class WebhookTargetRefused extends Error {}

/** A webhook URL with the addresses it was checked to reach: the only ones a delivery connects to. */
export interface WebhookTarget {
  url: URL;
  /** The host as the URL names it, normalized (no brackets, no trailing dot, lower case). */
  host: string;
  addresses: ResolvedAddress[];
}

/** RFC 6761: `localhost` and every name under it are the local host, whatever a resolver answers. */
const LOCALHOST_NAME = /(^|\.)localhost$/;
const LOOPBACK: ResolvedAddress[] = [
  { address: '127.0.0.1', family: 4 },
  { address: '::1', family: 6 },
];

/**
 * The SSRF rule for webhook URLs: http or https, no credentials, and every address the host
 * stands for public (not loopback, private, link-local, unique-local, CGNAT, metadata, ...)
 * unless webhook_allowed_hosts names the host or an address range holding the address. Checked
 * when a subscription is made and again before every attempt (DNS answers change), and the
 * attempt connects to the addresses checked, never to a second answer of the resolver.
 *
 * IP literals are judged as the WHATWG URL parser reads them, which is how the attacker spellings
 * (`127.1`, `0x7f000001`, `2130706433`, `[::ffff:127.0.0.1]`) all become 127.0.0.1 before any
 * check; `user@host` forms are refused outright.
 */
@Injectable()
export class WebhookTargetPolicy {
  private readonly allowedHosts: ReadonlySet<string>;
  private readonly allowedRanges = new BlockList();

  constructor(
    config: FlansibleConfig,
    private readonly resolver: WebhookResolver,
  ) {
    const hosts: string[] = [];
    for (const rule of config.webhookAllowedHosts) {
      if (rule.kind === 'host') hosts.push(rule.host);
      else this.allowedRanges.addSubnet(rule.address, rule.prefix, rule.family);
    }
    this.allowedHosts = new Set(hosts);
  }

  /** The URL as a webhook may use it; refuses any other scheme, credentials, a relative or overlong URL. */
  parse(raw: string): URL {
    if (raw.length > WebhookLimits.urlLength) throw new WebhookTargetRefused(`url must be at most ${WebhookLimits.urlLength} characters`);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new WebhookTargetRefused('url must be an absolute http:// or https:// URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookTargetRefused(`url must use http or https, not ${url.protocol.replace(/:$/, '')}`);
    // `https://trusted.example@10.0.0.1/` reaches 10.0.0.1: a reader sees one host, the client another.
    if (url.username || url.password) throw new WebhookTargetRefused('url must not contain credentials (user:password@)');
    if (url.hostname === '') throw new WebhookTargetRefused('url must name a host');
    return url;
  }

  /** Parses and resolves `raw`; refuses it unless every address it reaches is allowed. */
  async check(raw: string): Promise<WebhookTarget> {
    const url = this.parse(raw);
    const host = normalizeHost(url.hostname);
    const addresses = await this.addressesOf(host);
    if (this.allowedHosts.has(host)) return { url, host, addresses };
    for (const { address } of addresses) {
      const canonical = canonicalAddress(address);
      if (this.allowedRanges.check(canonical, isIP(canonical) === 6 ? 'ipv6' : 'ipv4')) continue;
      const range = nonPublicRange(canonical);
      if (range) {
        const what = isIP(host) ? `url host ${host} is` : `url host ${host} resolves to`;
        const article = range === 'unspecified' ? 'an' : 'a';
        throw new WebhookTargetRefused(`${what} ${article} ${range} address, which webhooks may not reach (webhook_allowed_hosts can allow it)`);
      }
    }
    return { url, host, addresses };
  }

  private async addressesOf(host: string): Promise<ResolvedAddress[]> {
    const family = isIP(host);
    if (family !== 0) return [{ address: host, family: family as 4 | 6 }];
    if (LOCALHOST_NAME.test(host)) return LOOPBACK;
    let addresses: ResolvedAddress[];
    try {
      addresses = await this.resolver.resolve(host);
    } catch {
      addresses = [];
    }
    if (addresses.length === 0) throw new WebhookTargetRefused(`url host ${host} does not resolve`);
    return addresses;
  }
}
