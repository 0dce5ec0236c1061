import { parseBasicAuthorization } from './basic-credentials';

const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('parseBasicAuthorization', () => {
  it('splits at the first colon, so passwords may contain colons', () => {
    expect(parseBasicAuthorization(`Basic ${encode('alice:a:b:c')}`)).toEqual({ user: 'alice', password: 'a:b:c' });
  });

  it('accepts any case of the scheme and UTF-8 credentials', () => {
    expect(parseBasicAuthorization(`basic ${encode('jürgen:pässwörd')}`)).toEqual({ user: 'jürgen', password: 'pässwörd' });
  });

  it.each([undefined, '', 'Bearer abc', 'Basic', 'Basic !!!', `Basic ${encode('alice')}`, `Basic ${encode(':pw')}`, `Basic ${encode('alice:')}`])(
    'refuses %j',
    (header) => {
      expect(parseBasicAuthorization(header)).toBeNull();
    },
  );
});
