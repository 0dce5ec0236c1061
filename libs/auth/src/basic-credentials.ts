/** User name and password from an HTTP Basic `Authorization` header (RFC 7617). */
export interface BasicCredentials {
  user: string;
  password: string;
}

/**
 * Parses `Authorization: Basic base64(user:password)`. The password is everything after the
 * first colon, so passwords may contain colons. Null when absent, another scheme, or malformed.
 */
export function parseBasicAuthorization(header: string | undefined): BasicCredentials | null {
  const match = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
