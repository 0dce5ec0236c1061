import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Why an address is not one a webhook may reach: the kind of range it lies in. */
export type NonPublicRange =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'CGNAT'
  | 'metadata'
  | 'multicast'
  | 'reserved';

type Ranges = [NonPublicRange, string, number][];

/**
 * IPv4 ranges no webhook may reach (the IANA special-purpose registry, less the globally
 * reachable entries). Listed most specific first: the first match names the range.
 */
const IPV4: Ranges = [
  ['metadata', '169.254.169.254', 32], // cloud instance metadata (AWS, GCP, Azure, OpenStack, ...)
  ['metadata', '100.100.100.200', 32], // Alibaba Cloud's, inside CGNAT
  ['unspecified', '0.0.0.0', 8], // "this network": Linux connects 0.0.0.0 to the local host
  ['loopback', '127.0.0.0', 8],
  ['private', '10.0.0.0', 8],
  ['private', '172.16.0.0', 12],
  ['private', '192.168.0.0', 16],
  ['CGNAT', '100.64.0.0', 10],
  ['link-local', '169.254.0.0', 16],
  ['reserved', '192.0.0.0', 24], // IETF protocol assignments
  ['reserved', '192.0.2.0', 24], // documentation
  ['reserved', '198.51.100.0', 24],
  ['reserved', '203.0.113.0', 24],
  ['reserved', '192.88.99.0', 24], // 6to4 relay anycast
  ['reserved', '198.18.0.0', 15], // benchmarking
  ['multicast', '224.0.0.0', 4],
  ['reserved', '240.0.0.0', 4], // future use, and the broadcast address
];

/**
 * IPv6 ranges no webhook may reach. Public IPv6 unicast is all inside 2000::/3, so everything
 * outside it is refused (as `reserved` when no entry names it); the IPv4 an address carries
 * (mapped, NAT64, 6to4) is judged as IPv4 before these are consulted.
 */
const IPV6: Ranges = [
  ['metadata', 'fd00:ec2::254', 128], // AWS instance metadata over IPv6
  ['unspecified', '::', 128],
  ['loopback', '::1', 128],
  ['unique-local', 'fc00::', 7],
  ['link-local', 'fe80::', 10],
  ['reserved', 'fec0::', 10], // site-local, deprecated
  ['multicast', 'ff00::', 8],
  ['private', '64:ff9b:1::', 48], // NAT64 for local use
  ['reserved', '2001::', 32], // Teredo: the IPv4 it tunnels to is obfuscated, so it cannot be judged
  ['reserved', '2001:db8::', 32], // documentation
  ['reserved', '2001:2::', 48], // benchmarking
  ['reserved', '2001:10::', 28], // ORCHID
  ['reserved', '2001:20::', 28], // ORCHIDv2
];
const GLOBAL_UNICAST_V6 = subnetList([['reserved', '2000::', 3]], 'ipv6');

function subnetList(ranges: Ranges, family: 'ipv4' | 'ipv6'): BlockList {
  const list = new BlockList();
  for (const [, address, prefix] of ranges) list.addSubnet(address, prefix, family);
  return list;
}
const BY_RANGE_V4 = IPV4.map(([name, address, prefix]) => [name, subnetList([[name, address, prefix]], 'ipv4')] as const);
const BY_RANGE_V6 = IPV6.map(([name, address, prefix]) => [name, subnetList([[name, address, prefix]], 'ipv6')] as const);

/** The 16 bytes of an IPv6 address in any of its spellings (`::`, a trailing dotted quad). */
function ipv6Bytes(address: string): number[] {
  let text = address.toLowerCase();
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad[1].split('.').map(Number);
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const words = (part: string | undefined) => (part ? part.split(':').map((w) => parseInt(w, 16)) : []);
  const left = words(head);
  const right = words(tail);
  const all = tail === undefined ? left : [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  return all.flatMap((w) => [w >> 8, w & 0xff]);
}

const dotted = (bytes: number[]) => bytes.join('.');

/**
 * The IPv4 address an IPv6 address stands for, where it stands for one a router would reach:
 * IPv4-mapped (::ffff:a.b.c.d, what `[::ffff:127.0.0.1]` spells), NAT64 (64:ff9b::a.b.c.d) and
 * 6to4 (2002:aabb:ccdd::).
 */
export function embeddedIPv4(address: string): string | null {
  if (!isIPv6(address)) return null;
  const b = ipv6Bytes(address);
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return dotted(b.slice(12));
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return dotted(b.slice(12));
  if (b[0] === 0x20 && b[1] === 0x02) return dotted(b.slice(2, 6));
  return null;
}

/** The address as a connection would reach it: the IPv4 an IPv6 spelling carries, else itself. */
export function canonicalAddress(address: string): string {
  return embeddedIPv4(address) ?? address.toLowerCase();
}

/** Which non-public range `address` (an IP literal) lies in, or null for a public unicast address. */
export function nonPublicRange(address: string): NonPublicRange | null {
  const canonical = canonicalAddress(address);
  if (isIPv4(canonical)) return BY_RANGE_V4.find(([, list]) => list.check(canonical, 'ipv4'))?.[0] ?? null;
  const named = BY_RANGE_V6.find(([, list]) => list.check(canonical, 'ipv6'))?.[0];
  if (named) return named;
  return GLOBAL_UNICAST_V6.check(canonical, 'ipv6') ? null : 'reserved';
}
