import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { IntegerRange } from '@flansible/contracts';

/**
 * An optional integer body field within `range` (contracts' JobRange, which the runner holds a
 * job to as well). A JSON number only: "5" is no integer. The Swagger plugin reads Min/Max only
 * from the property itself, so the range is given to ApiProperty.
 */
export function BodyInteger(range: IntegerRange): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    // Registered in this order, so the type is judged before the range (stopAtFirstError).
    IsInt(),
    Min(range.min),
    Max(range.max),
    ApiProperty({ required: false, minimum: range.min, maximum: range.max }),
  );
}
