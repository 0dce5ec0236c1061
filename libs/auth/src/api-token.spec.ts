import { createHash } from 'node:crypto';
import { ApiTokenScope } from '@flansible/contracts';
import { API_TOKEN_PREFIX, apiTokenMatches, bearerCredentials, generateApiToken, hashApiToken, isApiTokenFormat } from './api-token';
import { requiredScope, scopeRefusal } from './api-token-scope';
import { AuthenticatedUser } from './authenticated-user';

describe('API token format', () => {
  it('is flt_ and 32 random bytes in base64url, different every time', () => {
    const tokens = Array.from({ length: 50 }, generateApiToken);
    for (const token of tokens) {
      expect(token).toMatch(/^flt_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token.slice(API_TOKEN_PREFIX.length), 'base64url')).toHaveLength(32);
      expect(isApiTokenFormat(token)).toBe(true);
    }
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it.each([
    ['empty', ''],
    ['the prefix alone', 'flt_'],
    ['one character short', generateApiToken().slice(0, -1)],
    ['one character long', `${generateApiToken()}A`],
    ['padding', `${generateApiToken().slice(0, -1)}=`],
    ['standard base64', `flt_${'+'.repeat(43)}`],
    ['another prefix', `flx_${'A'.repeat(43)}`],
    ['an upper-case prefix', `FLT_${'A'.repeat(43)}`],
    ['a trailing newline', `${generateApiToken()}\n`],
  ])('refuses %s', (_what, text) => {
    expect(isApiTokenFormat(text)).toBe(false);
  });
});

describe('API token hash', () => {
  it('is the SHA-256 of the token, hex, the same for the same token and another for another', () => {
    const token = generateApiToken();
    expect(hashApiToken(token)).toBe(createHash('sha256').update(token).digest('hex'));
    expect(hashApiToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiToken(generateApiToken())).not.toBe(hashApiToken(token));
  });

  it('matches the stored hash of the very token only', () => {
    const token = generateApiToken();
    const stored = hashApiToken(token);
    expect(apiTokenMatches(stored, token)).toBe(true);
    expect(apiTokenMatches(stored, generateApiToken())).toBe(false);
    expect(apiTokenMatches(stored.slice(0, 62), token)).toBe(false);
    expect(apiTokenMatches('', token)).toBe(false);
  });
});

describe('bearerCredentials', () => {
  it.each([
    [undefined, undefined],
    ['Basic YWxpY2U6cHc=', undefined],
    ['Bearerflt_x', undefined],
    ['XBearer flt_x', undefined],
    ['Bearer', ''],
    ['Bearer   ', ''],
    ['Bearer flt_x', 'flt_x'],
    ['bearer flt_x', 'flt_x'],
    ['BEARER\tflt_x ', 'flt_x'],
    ['Bearer flt_x junk', 'flt_x junk'],
  ])('reads %j as %j', (header, expected) => {
    expect(bearerCredentials(header)).toBe(expected);
  });
});

describe('the scope rule', () => {
  const user = (scope?: ApiTokenScope): AuthenticatedUser => ({
    name: 'alice',
    isAdmin: false,
    inventories: [],
    limits: { become: true, git: true, maxVerbosity: 1, diff: false },
    ...(scope ? { token: { id: 't1', scope } } : {}),
  });

  it('needs what a route declares, else read for safe methods and run for the others', () => {
    expect(['GET', 'head', 'OPTIONS'].map((m) => requiredScope(m, undefined))).toEqual(['read', 'read', 'read']);
    expect(['POST', 'PUT', 'PATCH', 'DELETE'].map((m) => requiredScope(m, undefined))).toEqual(['run', 'run', 'run', 'run']);
    expect(requiredScope('GET', ApiTokenScope.Run)).toBe('run');
    expect(requiredScope('POST', ApiTokenScope.Read)).toBe('read');
  });

  it('lets run tokens and password logins do anything their user may, read tokens only read', () => {
    for (const required of [ApiTokenScope.Read, ApiTokenScope.Run]) {
      expect(scopeRefusal(user(), required, 'POST /x')).toBeNull();
      expect(scopeRefusal(user(ApiTokenScope.Run), required, 'POST /x')).toBeNull();
    }
    expect(scopeRefusal(user(ApiTokenScope.Read), ApiTokenScope.Read, 'GET /x')).toBeNull();
    expect(scopeRefusal(user(ApiTokenScope.Read), ApiTokenScope.Run, 'POST /api/v1/jobs/command')).toBe(
      'This API token has scope "read": POST /api/v1/jobs/command needs a token with scope "run"',
    );
  });
});
