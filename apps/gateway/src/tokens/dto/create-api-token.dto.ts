import { ApiProperty } from '@nestjs/swagger';
import { IsDefined, IsIn, IsString, Matches } from 'class-validator';
import { API_TOKEN_SCOPES, ApiTokenScope, IntegerRange } from '@flansible/contracts';
import { BodyInteger } from '../../common/body-integer.decorator';

/** How long a token may live, in days: every token expires. */
export const API_TOKEN_LIFETIME_DAYS: IntegerRange = { min: 1, max: 365 };
export const DEFAULT_API_TOKEN_LIFETIME_DAYS = 90;

/** POST /api/v1/tokens: a new API token for the caller. */
export class CreateApiTokenDto {
  /** A label to tell the token by, e.g. what uses it ("ops portal"): 1-100 characters, no control characters. */
  @Matches(/^[^\x00-\x1f\x7f-\x9f]{1,100}$/, { message: 'name must be 1 to 100 characters without control characters' })
  @IsString()
  @IsDefined({ message: '$property is required' })
  name!: string;

  /** Days until the token expires, 1-365; default 90. */
  @BodyInteger(API_TOKEN_LIFETIME_DAYS)
  expires_in_days?: number = DEFAULT_API_TOKEN_LIFETIME_DAYS;

  /**
   * `read`: only reads (jobs, output, events, streams, tokens). `run`: also submits, cancels,
   * updates git and issues or revokes tokens. Either way within what the user may do now.
   */
  @ApiProperty({ enum: API_TOKEN_SCOPES })
  @IsIn(API_TOKEN_SCOPES, { message: `scope must be one of ${API_TOKEN_SCOPES.join(', ')}` })
  @IsDefined({ message: '$property is required' })
  scope!: ApiTokenScope;
}
