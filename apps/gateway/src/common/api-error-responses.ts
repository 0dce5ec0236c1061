import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBasicAuth,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import { ErrorBodyDto } from './error-body.dto';

/** Basic auth and the answers any authenticated route may give. */
export const ApiAuthenticated = () =>
  applyDecorators(
    ApiBasicAuth(),
    ApiUnauthorizedResponse({ type: ErrorBodyDto, description: 'Missing or wrong credentials' }),
    ApiTooManyRequestsResponse({ type: ErrorBodyDto, description: 'Too many failed logins; see Retry-After' }),
  );

/** The answers every job submission may give besides its own. */
export const ApiSubmissionErrors = () =>
  applyDecorators(
    ApiBadRequestResponse({ type: ErrorBodyDto, description: 'Missing, mistyped or unknown field, or malformed JSON' }),
    ApiPayloadTooLargeResponse({ type: ErrorBodyDto, description: 'Body larger than body_limit' }),
    ApiUnsupportedMediaTypeResponse({ type: ErrorBodyDto, description: 'Body is not application/json' }),
    ApiServiceUnavailableResponse({ type: ErrorBodyDto, description: 'Job queue unavailable: nothing stored or run' }),
  );
