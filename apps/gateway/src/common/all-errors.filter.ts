import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { Response } from 'express';
import { ErrorBody } from '@flansible/contracts';
import { QueueUnavailableError } from '@flansible/queue';
import { PathNotFoundError, PathOutsideRootError } from '@flansible/workspace';
import { RetryLaterError } from './retry-later.error';

/** What a 401 offers: a password (Basic) or an API token (Bearer). */
const AUTHENTICATION_CHALLENGES = ['Basic realm="flansible", charset="UTF-8"', 'Bearer realm="flansible"'];

/** Domain errors and the HTTP status each one answers with. */
function statusOf(err: unknown): number {
  if (err instanceof HttpException) return err.getStatus();
  if (err instanceof PathNotFoundError) return HttpStatus.NOT_FOUND;
  if (err instanceof PathOutsideRootError) return HttpStatus.FORBIDDEN;
  if (err instanceof QueueUnavailableError) return HttpStatus.SERVICE_UNAVAILABLE;
  if (err instanceof RetryLaterError) return err.status;
  // body-parser errors (malformed JSON, too large, bad charset) carry their own 4xx status.
  const status = (err as { status?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) return status;
  return HttpStatus.INTERNAL_SERVER_ERROR;
}

function messagesOf(err: unknown, status: number): string[] {
  if (status === HttpStatus.INTERNAL_SERVER_ERROR) return ['Internal server error'];
  if (err instanceof QueueUnavailableError) return [`Job queue unavailable: ${err.message}`];
  if (err instanceof RetryLaterError) return [err.message];
  if (err instanceof HttpException) {
    const response = err.getResponse();
    const message = typeof response === 'string' ? response : (response as { message?: unknown }).message;
    if (Array.isArray(message)) return message.map(String);
    if (typeof message === 'string') return [message];
    return [err.message];
  }
  if ((err as { type?: string })?.type === 'entity.parse.failed') return ['Request body is not valid JSON'];
  return [(err as Error)?.message ?? STATUS_CODES[status] ?? 'Error'];
}

/**
 * The gateway's one exception filter: it catches every error an HTTP request raises (HttpExceptions,
 * domain errors, body-parser errors, bugs), gives each the same JSON body (ErrorBody) with its
 * status, never leaks a stack trace, and never writes after a response has started.
 */
@Catch()
export class AllErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('AllErrorsFilter');

  catch(err: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) {
      // The answer has begun (an SSE stream, a download): no status or body can follow. Say why
      // in the log and end the response cleanly; the client sees the stream end and resumes.
      this.logger.error(`Error after the response started, ending it: ${(err as Error)?.stack ?? String(err)}`);
      if (!response.writableEnded) response.end();
      return;
    }
    const status = statusOf(err);
    if (status >= 500 && !(err instanceof QueueUnavailableError)) {
      this.logger.error((err as Error)?.stack ?? String(err));
    }
    const messages = messagesOf(err, status);
    const body: ErrorBody = {
      statusCode: status,
      error: STATUS_CODES[status] ?? 'Error',
      message: messages.join('; '),
      ...(messages.length > 1 ? { details: messages } : {}),
    };
    if (status === HttpStatus.UNAUTHORIZED) response.setHeader('WWW-Authenticate', AUTHENTICATION_CHALLENGES);
    if (status === HttpStatus.SERVICE_UNAVAILABLE) response.setHeader('Retry-After', '5');
    if (err instanceof RetryLaterError) response.setHeader('Retry-After', String(err.retryAfterSeconds));
    // A route may have set another type (text/plain output) before failing.
    response.status(status).type('application/json').send(JSON.stringify(body));
  }
}
