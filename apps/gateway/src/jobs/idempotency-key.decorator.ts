import { BadRequestException, createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { FieldGrammar } from '@flansible/contracts';

/** The Idempotency-Key header, checked against its grammar; undefined when absent. */
export const IdempotencyKey = createParamDecorator((_data: unknown, context: ExecutionContext): string | undefined => {
  const value = context.switchToHttp().getRequest<Request>().headers['idempotency-key'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !FieldGrammar.idempotencyKey.test(value)) {
    throw new BadRequestException('Idempotency-Key must be 1-200 printable ASCII characters without spaces');
  }
  return value;
});
