import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min, ValidationArguments } from 'class-validator';
import { IntegerRange, parseDecimal } from '@flansible/contracts';

/**
 * An optional integer query parameter within `range`. Only plain decimal digits become a number;
 * any other spelling (`1e3`, `0x10`, `+1`, ` 1`, empty, `Infinity`) stays a string and fails IsInt,
 * where `Number()` would have taken it. Out of range is refused by Min/Max, so nothing the store's
 * column cannot hold gets past validation. The one message names the range.
 */
export function QueryInteger(range: IntegerRange): PropertyDecorator {
  const message = ({ property }: ValidationArguments) => `${property} must be an integer from ${range.min} to ${range.max}`;
  return applyDecorators(
    IsOptional(),
    // Registered in this order, so the spelling is judged before the range (stopAtFirstError).
    IsInt({ message }),
    Min(range.min, { message }),
    Max(range.max, { message }),
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? (parseDecimal(value) ?? value) : value)),
    ApiProperty({ required: false, type: 'integer', minimum: range.min, maximum: range.max }),
  );
}
