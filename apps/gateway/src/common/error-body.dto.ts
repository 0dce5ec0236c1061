import { ErrorBody } from '@flansible/contracts';

/** The JSON body of every error answer. */
export class ErrorBodyDto implements ErrorBody {
  /** HTTP status code, repeated. */
  statusCode!: number;
  /** HTTP reason phrase, e.g. "Bad Request". */
  error!: string;
  /** One line naming the problem. */
  message!: string;
  /** Every problem, when there were several (e.g. each invalid field). */
  details?: string[];
}
