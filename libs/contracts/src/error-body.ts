/** The one JSON body every error answer carries. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  /** One line naming the problem. */
  message: string;
  /** Each problem when there were several (e.g. every invalid field). */
  details?: string[];
}
