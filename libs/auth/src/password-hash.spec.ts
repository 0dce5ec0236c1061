import { hashPassword, looksLikePasswordHash, parsePasswordHash, PasswordHashError, verifyPasswordHash } from './password-hash';

// ln=10 keeps the suite quick; the default cost is checked once.
const cheap = { ln: 10 };

describe('password hashes', () => {
  it('round-trips at the default cost, in the documented format', async () => {
    const encoded = await hashPassword('correct horse');
    expect(encoded).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    const parsed = parsePasswordHash(encoded);
    expect(parsed).toMatchObject({ ln: 15, r: 8, p: 1, encoded });
    expect(await verifyPasswordHash('correct horse', parsed)).toBe(true);
  });

  it('refuses a wrong password, and salts each hash', async () => {
    const a = await hashPassword('s3cret:with:colons', cheap);
    const b = await hashPassword('s3cret:with:colons', cheap);
    expect(a).not.toBe(b);
    expect(await verifyPasswordHash('s3cret:with:colons', parsePasswordHash(b))).toBe(true);
    for (const wrong of ['s3cret', 's3cret:with:colons ', '', 'S3cret:with:colons']) {
      expect(await verifyPasswordHash(wrong, parsePasswordHash(a))).toBe(false);
    }
  });

  it('treats composed and decomposed accents as the same password', async () => {
    const hash = parsePasswordHash(await hashPassword('caf\u00e9', cheap));
    expect(await verifyPasswordHash('cafe\u0301', hash)).toBe(true);
  });

  it('accepts padded base64 as written by other tools', async () => {
    const encoded = await hashPassword('pw', cheap);
    const [, id, params, salt, hash] = encoded.split('$');
    const padded = `$${id}$${params}$${salt}==$${hash}=`;
    expect(await verifyPasswordHash('pw', parsePasswordHash(padded))).toBe(true);
  });

  it.each([
    ['$scrypt$', 'is not a $scrypt$'],
    ['$scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA', 'is not a $scrypt$'],
    ['$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', 'only scrypt'],
    ['$scrypt$ln=15,r=8$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2g', 'needs p'],
    ['$scrypt$ln=15,r=8,p=1,x=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2g', 'unknown parameters'],
    ['$scrypt$ln=15,r=8,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2g', 'malformed parameters'],
    ['$scrypt$ln=99,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2g', 'needs ln from 1 to 20'],
    ['$scrypt$ln=15,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2g', 'salt of 8 to 64 bytes'],
    ['$scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA', 'hash of 16 to 64 bytes'],
    ['$scrypt$ln=15,r=8,p=1$not*base64!$aGFzaGhhc2hoYXNoaGFzaGhhc2g', 'salt that is not base64'],
  ])('refuses the malformed hash %s', (encoded, reason) => {
    expect(() => parsePasswordHash(encoded)).toThrow(PasswordHashError);
    expect(() => parsePasswordHash(encoded)).toThrow(reason);
  });

  it('tells hashes from plaintext passwords', () => {
    expect(looksLikePasswordHash('$scrypt$ln=15,r=8,p=1$a$b')).toBe(true);
    expect(looksLikePasswordHash('$2b$12$abcdefghijklmnopqrstuv')).toBe(true);
    for (const plain of ['admin', '$ecret', 'pa$$word', '$Money$']) expect(looksLikePasswordHash(plain)).toBe(false);
  });
});
