import { ArgumentMetadata, BadRequestException, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => {
    const path = prefix + error.property;
    const own = Object.values(error.constraints ?? {}).map((text) =>
      // class-validator names the property bare; give nested ones their full path.
      prefix ? text.replace(new RegExp(`^${error.property}\\b`), path) : text,
    );
    return [...own, ...flatten(error.children ?? [], `${path}.`)];
  });
}

/**
 * Strict request validation: unknown fields, wrong types and missing fields are each a 400
 * naming them, one message per field.
 */
@Injectable()
export class StrictValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      stopAtFirstError: true,
      transform: true,
      // No implicit conversion: the string "false" is not a boolean.
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => new BadRequestException(flatten(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new BadRequestException('Request body must be a JSON object');
    }
    return super.transform(value, metadata);
  }
}
