import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AuthenticatedUser, CurrentUser, RequiresScope } from '@flansible/auth';
import { ApiTokenScope } from '@flansible/contracts';
import { ApiAuthenticated } from '../common/api-error-responses';
import { ErrorBodyDto } from '../common/error-body.dto';
import { ApiTokenListDto, CreatedApiTokenDto } from './dto/api-token.dto';
import { CreateApiTokenDto } from './dto/create-api-token.dto';
import { ListApiTokensQueryDto } from './dto/list-api-tokens-query.dto';
import { ApiTokensService } from './api-tokens.service';

/** API tokens: `Authorization: Bearer flt_...` instead of a password, for scripts and portals. */
@ApiTags('tokens')
@ApiAuthenticated()
@Controller('api/v1/tokens')
export class ApiTokensController {
  constructor(private readonly tokens: ApiTokensService) {}

  /** Issue a token for the caller; the answer is the only time it is shown. */
  @Post()
  @RequiresScope(ApiTokenScope.Run)
  @ApiCreatedResponse({ type: CreatedApiTokenDto })
  @ApiBadRequestResponse({ type: ErrorBodyDto, description: 'Missing, mistyped or unknown field' })
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: 'A read token may not issue tokens' })
  createToken(@CurrentUser() user: AuthenticatedUser, @Body() dto: CreateApiTokenDto): Promise<CreatedApiTokenDto> {
    return this.tokens.create(user, dto);
  }

  /** The caller's tokens, newest first, without the tokens themselves; admins may ask for another user's or everyone's. */
  @Get()
  @ApiOkResponse({ type: ApiTokenListDto })
  @ApiBadRequestResponse({ type: ErrorBodyDto })
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: "Only an admin may list other users' tokens" })
  listTokens(@CurrentUser() user: AuthenticatedUser, @Query() query: ListApiTokensQueryDto): Promise<ApiTokenListDto> {
    return this.tokens.list(user, query);
  }

  /** Revoke a token: every gateway refuses it from the next request on. */
  @Delete(':id')
  @RequiresScope(ApiTokenScope.Run)
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "Unknown token, or another user's (for non-admins)" })
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: 'A read token may not revoke tokens' })
  revokeToken(@CurrentUser() user: AuthenticatedUser, @Param('id') id: string): Promise<void> {
    return this.tokens.revoke(user, id);
  }
}
