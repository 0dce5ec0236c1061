import { isIP } from 'node:net';

/**
 * One entry of webhook_allowed_hosts: a host name the URL must name exactly, or an address range
 * (a bare address is a range of one) the resolved addresses must fall in. Either lets a webhook
 * reach what the SSRF rules refuse otherwise (loopback, private networks, metadata addresses).
 */
export type WebhookHostRule =
  | { kind: 'host'; host: string }
  | { kind: 'subnet'; address: string; prefix: number; family: 'ipv4' | 'ipv6' };

/** A DNS name: labels of letters, digits, `-` and `_`, none starting or ending with `-`. */
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/**
 * A host as the allow-list compares it: lower case, without IPv6 brackets and without the one
 * trailing dot a fully qualified name may carry (`Example.COM.` is `example.com`).
 */
export function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/** The rule `entry` spells (`hooks.internal`, `127.0.0.1`, `10.0.0.0/8`, `[::1]`, `fd00::/8`), or null when it spells none. */
export function parseWebhookHostRule(entry: string): WebhookHostRule | null {
  const [rawAddress, prefixText, ...rest] = normalizeHost(entry.trim()).split('/');
  if (rest.length > 0) return null;
  const address = normalizeHost(rawAddress);
  const version = isIP(address);
  if (version === 0) return prefixText === undefined && HOST_NAME.test(address) ? { kind: 'host', host: address } : null;
  const bits = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return null;
  return { kind: 'subnet', address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}
