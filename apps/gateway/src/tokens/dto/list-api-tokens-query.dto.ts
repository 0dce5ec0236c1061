import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, MaxLength } from 'class-validator';

/** GET /api/v1/tokens query: the caller's tokens unless an admin asks for another user's or everyone's. */
export class ListApiTokensQueryDto {
  /** This user's tokens (admins only, unless it is the caller). */
  @IsOptional()
  @MaxLength(200)
  @IsString()
  user?: string;

  /** Every user's tokens (admins only). */
  @IsOptional()
  @Transform(({ value }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value))
  @IsBoolean()
  all?: boolean;
}
