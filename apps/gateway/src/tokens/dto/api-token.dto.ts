import { ApiProperty } from '@nestjs/swagger';
import { API_TOKEN_SCOPES, ApiTokenScope } from '@flansible/contracts';

/** An API token as listed: never the token itself. */
export class ApiTokenDto {
  id!: string;
  name!: string;
  /** The user it acts as. */
  user!: string;
  @ApiProperty({ enum: API_TOKEN_SCOPES })
  scope!: ApiTokenScope;
  /** ISO 8601, as the other times. */
  created_at!: string;
  /** From then on the token is refused (401). */
  expires_at!: string;
  /** When it last authenticated a request, to the minute; null when never. */
  @ApiProperty({ type: String, nullable: true })
  last_used_at!: string | null;
}

/** A new token: the only answer that shows it. */
export class CreatedApiTokenDto extends ApiTokenDto {
  /** `Authorization: Bearer <token>`. Shown once: only its hash is stored. */
  token!: string;
}

/** Tokens, newest first. */
export class ApiTokenListDto {
  items!: ApiTokenDto[];
}
