/**
 * Spellings of one `Authorization: Basic` header that passport-http reads as the same user and
 * password: what an attacker sends to get around a check that parses the header another way.
 */
export function basicHeaderSpellings(user: string, password: string): [string, string][] {
  const token = Buffer.from(`${user}:${password}`).toString('base64');
  return [
    ['trailing junk', `Basic ${token} x`],
    ['trailing junk after several spaces', `Basic ${token}   junk junk`],
    ['a lower-case scheme', `basic ${token}`],
    ['a mixed-case scheme with junk', `bAsIc ${token} x`],
    ['junk with a tab after the token', `Basic ${token} x\ty`],
  ];
}
