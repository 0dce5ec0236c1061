import { BadRequestException, ForbiddenException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuthenticatedUser, generateApiToken, hashApiToken } from '@flansible/auth';
import { ApiTokenRecord, ApiTokenStore } from '@flansible/store';
import { ApiTokenDto, ApiTokenListDto, CreatedApiTokenDto } from './dto/api-token.dto';
import { CreateApiTokenDto, DEFAULT_API_TOKEN_LIFETIME_DAYS } from './dto/create-api-token.dto';
import { ListApiTokensQueryDto } from './dto/list-api-tokens-query.dto';

const DAY_MS = 86_400_000;

/** Issues, lists and revokes API tokens: each user their own, admins anyone's. */
@Injectable()
export class ApiTokensService {
  private readonly logger = new Logger(ApiTokensService.name);

  constructor(private readonly store: ApiTokenStore) {}

  async create(user: AuthenticatedUser, dto: CreateApiTokenDto): Promise<CreatedApiTokenDto> {
    const token = generateApiToken();
    const createdAt = new Date();
    const days = dto.expires_in_days ?? DEFAULT_API_TOKEN_LIFETIME_DAYS;
    const record = {
      id: randomUUID(),
      user: user.name,
      name: dto.name,
      scope: dto.scope,
      secretHash: hashApiToken(token),
      createdAt,
      expiresAt: new Date(createdAt.getTime() + days * DAY_MS),
    };
    await this.store.createApiToken(record);
    this.logger.log(`API token ${record.id} (${record.scope}, ${days} days) issued to ${user.name}${viaToken(user)}`);
    return { ...toDto({ ...record, lastUsedAt: null }), token };
  }

  async list(user: AuthenticatedUser, query: ListApiTokensQueryDto): Promise<ApiTokenListDto> {
    if (query.all && query.user !== undefined) throw new BadRequestException('Give either user or all, not both');
    const others = query.all || (query.user !== undefined && query.user !== user.name);
    if (others && !user.isAdmin) throw new ForbiddenException("Only an admin may list other users' tokens");
    const records = await this.store.listApiTokens(query.all ? {} : { user: query.user ?? user.name });
    return { items: records.map(toDto) };
  }

  /** 404 for a token that is not the caller's, unless the caller is an admin: others' tokens are not revealed. */
  async revoke(user: AuthenticatedUser, id: string): Promise<void> {
    const revoked = await this.store.revokeApiToken(id, user.isAdmin ? undefined : user.name);
    if (!revoked) throw new NotFoundException(`Unknown API token ${id}`);
    this.logger.log(`API token ${id} revoked by ${user.name}${viaToken(user)}`);
  }
}

function toDto(record: ApiTokenRecord): ApiTokenDto {
  return {
    id: record.id,
    name: record.name,
    user: record.user,
    scope: record.scope,
    created_at: record.createdAt.toISOString(),
    expires_at: record.expiresAt.toISOString(),
    last_used_at: record.lastUsedAt?.toISOString() ?? null,
  };
}

const viaToken = (user: AuthenticatedUser) => (user.token ? ` (with API token ${user.token.id})` : '');
