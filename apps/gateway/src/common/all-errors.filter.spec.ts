import { Controller, Get, INestApplication, Logger, NotFoundException, Res } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { Response } from 'express';
import { AllErrorsFilter } from './all-errors.filter';

@Controller()
class ProbeController {
  @Get('missing')
  missing(): never {
    throw new NotFoundException('No such job');
  }

  /** Like a stream whose store read fails after the first event went out. */
  @Get('stream')
  async stream(@Res() res: Response): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('id: 1\ndata: first\n\n');
    await new Promise((resolve) => setTimeout(resolve, 20));
    throw new Error('store connection lost');
  }
}

describe('AllErrorsFilter', () => {
  let app: INestApplication;
  let base: string;
  const logged: string[] = [];

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [ProbeController],
      providers: [{ provide: APP_FILTER, useClass: AllErrorsFilter }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => void logged.push(String(message)));
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(() => app.close());

  it('answers an error before the response started with the shared JSON body', async () => {
    const res = await fetch(`${base}/missing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'No such job' });
  });

  it('ends a response that has started cleanly, keeping what was sent, instead of writing a status after it', async () => {
    const res = await fetch(`${base}/stream`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('id: 1\ndata: first\n\n');
    expect(logged.some((line) => line.startsWith('Error after the response started, ending it: Error: store connection lost'))).toBe(true);
    expect(logged.join('\n')).not.toMatch(/ERR_HTTP_HEADERS_SENT/);
  });
});
