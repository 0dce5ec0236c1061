import { BadRequestException, createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { FieldGrammar } from '@flansible/contracts';
import { IdempotentRequest, requestFingerprint } from './idempotency.service';

/**
 * The Idempotency-Key header, checked against its grammar, with the fingerprint of the request
 * it came with (method, route, body); undefined when absent.
 */
export const IdempotencyKey = createParamDecorator((_data: unknown, context: ExecutionContext): IdempotentRequest | undefined => {
  const req = context.switchToHttp().getRequest<Request>();
  const value = req.headers['idempotency-key'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !FieldGrammar.idempotencyKey.test(value)) {
    throw new BadRequestException('Idempotency-Key must be 1-200 printable ASCII characters without spaces');
  }
  // The route with its parameters filled in: a key that relaunched job A is not the same request
  // when sent to relaunch job B.
  const pattern = `${req.baseUrl ?? ''}${(req.route as { path?: string } | undefined)?.path ?? req.path}`;
  const route = pattern.replace(/:(\w+)/g, (param, name: string) => String(req.params?.[name] ?? param));
  return { key: value, fingerprint: requestFingerprint(req.method, route, req.body) };
});
