import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { FieldGrammar } from '@flansible/contracts';
import { withLogFields } from '@flansible/logging';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * Every request gets an id: the client's X-Request-Id when it is a sane one, else a new one. It is
 * echoed in the response, and every log line written for the request (and the job it submits, in
 * the gateway and in the runner) carries it.
 */
@Injectable()
export class RequestIdMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    const sent = req.header(REQUEST_ID_HEADER);
    const requestId = sent !== undefined && FieldGrammar.requestId.test(sent) ? sent : randomUUID();
    res.setHeader(REQUEST_ID_HEADER, requestId);
    withLogFields({ requestId }, next);
  }
}
