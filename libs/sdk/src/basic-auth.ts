/**
 * The Authorization header for HTTP Basic auth. The credentials are UTF-8 encoded first (btoa
 * alone only takes Latin-1), using only APIs that browsers and Node share.
 */
export function basicAuthorization(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}
