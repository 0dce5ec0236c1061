import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBasicAuth,
  ApiBearerAuth,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import { ErrorBodyDto } from './error-body.dto';

/** Basic auth or an API token, and the answers any authenticated route may give. */
export const ApiAuthenticated = () =>
  applyDecorators(
    ApiBasicAuth(),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ type: ErrorBodyDto, description: 'Missing or wrong credentials, or an unknown, revoked or expired API token' }),
    ApiTooManyRequestsResponse({ type: ErrorBodyDto, description: 'Too many failed logins; see Retry-After' }),
  );

/** The answers every job submission may give besides its own. */
export const ApiSubmissionErrors = () =>
  applyDecorators(
    // Replaces ApiAuthenticated's 429 on these routes: a submission may get it for either reason.
    ApiTooManyRequestsResponse({
      type: ErrorBodyDto,
      description: 'Too many failed logins, or the user already has max_jobs_per_user jobs queued or running: nothing stored; see Retry-After',
    }),
    ApiBadRequestResponse({ type: ErrorBodyDto, description: 'Missing, mistyped or unknown field, or malformed JSON' }),
    ApiPayloadTooLargeResponse({ type: ErrorBodyDto, description: 'Body larger than body_limit' }),
    ApiUnsupportedMediaTypeResponse({ type: ErrorBodyDto, description: 'Body is not application/json' }),
    ApiServiceUnavailableResponse({ type: ErrorBodyDto, description: 'Job queue unavailable: nothing stored or run' }),
  );
