import { BadRequestException, Type } from '@nestjs/common';
import { MAX_INT32, MAX_TIMESTAMP_MS } from '@flansible/contracts';
import { StrictValidationPipe } from '../common/validation.pipe';
import { EventsQueryDto } from './dto/job-events.dto';
import { OutputQueryDto } from './dto/job-output.dto';
import { ListJobsQueryDto } from './dto/list-jobs-query.dto';
import { decodeJobListCursor, encodeJobListCursor } from './job-list-cursor';
import { parseLastEventId } from './job-stream.service';

/** Spellings Number() would take (or that look like numbers): each must be a 400, never a number. */
const HOSTILE_SPELLINGS = [
  '', ' ', '-1', '-0', '+1', ' 1', '1 ', '1\n', '\t1', '1.5', '1.', '.5', '1e3', '1E3', '0x10', '0X1f', '0b1', '0o7',
  '1_000', '1,000', 'NaN', 'Infinity', '-Infinity', 'null', 'true', '\u0661', '\uff11',
];
const HUGE = ['2147483648', '4294967296', '99999999999999999999', '9223372036854775808', '9'.repeat(400)];

const pipe = new StrictValidationPipe();
const validate = (metatype: Type<unknown>, query: Record<string, unknown>) => pipe.transform(query, { type: 'query', metatype });
const refusal = async (metatype: Type<unknown>, query: Record<string, unknown>): Promise<string> => {
  const err: unknown = await validate(metatype, query).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(BadRequestException);
  return ((err as BadRequestException).getResponse() as { message: string[] }).message.join('; ');
};

/** Each integer query parameter and the range of the column it meets. */
const PARAMETERS: [string, string, Type<unknown>, number, number][] = [
  ['events', 'after', EventsQueryDto, 0, MAX_INT32],
  ['events', 'limit', EventsQueryDto, 1, 1000],
  ['output', 'start_line', OutputQueryDto, 1, MAX_INT32],
  ['output', 'end_line', OutputQueryDto, 1, MAX_INT32],
  ['list', 'limit', ListJobsQueryDto, 1, 500],
];

describe.each(PARAMETERS)('%s query %s', (_route, name, dto, min, max) => {
  const message = `${name} must be an integer from ${min} to ${max}`;

  it('takes its edge values as numbers', async () => {
    await expect(validate(dto, { [name]: String(min) })).resolves.toMatchObject({ [name]: min });
    await expect(validate(dto, { [name]: String(max) })).resolves.toMatchObject({ [name]: max });
    expect(((await validate(dto, {})) as Record<string, unknown>)[name]).toBeUndefined();
  });

  it.each([...HOSTILE_SPELLINGS, ...HUGE, String(min - 1), String(max + 1)])('refuses %j', async (value) => {
    expect(await refusal(dto, { [name]: value })).toBe(message);
  });

  it('refuses a repeated parameter', async () => {
    expect(await refusal(dto, { [name]: [String(min), String(min)] })).toBe(message);
  });
});

describe('parseLastEventId', () => {
  it('reads lines:events up to the integer columns they meet', () => {
    expect(parseLastEventId(undefined)).toEqual({ lines: 0, events: 0 });
    expect(parseLastEventId('')).toEqual({ lines: 0, events: 0 });
    expect(parseLastEventId('12:4')).toEqual({ lines: 12, events: 4 });
    expect(parseLastEventId(`${MAX_INT32}:${MAX_INT32}`)).toEqual({ lines: MAX_INT32, events: MAX_INT32 });
  });

  const bad = [
    ...HOSTILE_SPELLINGS.filter(Boolean).flatMap((part) => [`${part}:0`, `0:${part}`]),
    ...HUGE.flatMap((part) => [`${part}:0`, `0:${part}`]),
    ':', '0', '0:', ':0', '0:0:0', '0::0', '0 : 0', '0;0', '0.0',
  ];
  it.each(bad)('refuses %j', (value) => {
    expect(() => parseLastEventId(value)).toThrow(BadRequestException);
  });
});

describe('job list cursor', () => {
  const cursorOf = (text: string) => Buffer.from(text).toString('base64url');
  const id = '5b0c2d4e-8f1a-4b3c-9d2e-7f6a5b4c3d2e';

  it('reads back what it wrote, up to the latest time a Date holds', () => {
    for (const ms of [0, 1_764_000_000_000, MAX_TIMESTAMP_MS]) {
      const job = { createdAt: new Date(ms), id };
      expect(decodeJobListCursor(encodeJobListCursor(job))).toEqual(job);
    }
  });

  it.each([
    // Beyond what a Date (and so jobs.created_at) holds, or not plain digits.
    ...[...HOSTILE_SPELLINGS, '8640000000000001', '9223372036854775807', ...HUGE.slice(2)].map((ms) => `${ms}.${id}`),
    // Another spelling of a valid time.
    `0001764000000000.${id}`,
    // Ids the gateway never makes, NUL (which PostgreSQL's text refuses) among them.
    '1764000000000.', '1764000000000.a\u0000b', '1764000000000.a.b', '1764000000000.\u00e9', `1764000000000.${'a'.repeat(65)}`,
    '1764000000000', '',
  ])('refuses a cursor of %j', (text) => {
    expect(() => decodeJobListCursor(cursorOf(text))).toThrow(BadRequestException);
  });

  it('refuses another base64 spelling of a valid cursor', () => {
    const cursor = encodeJobListCursor({ createdAt: new Date(1_764_000_000_000), id });
    for (const other of [`${cursor}A`, `${cursor}=`, `A${cursor}`]) {
      expect(() => decodeJobListCursor(other)).toThrow(BadRequestException);
    }
  });
});
