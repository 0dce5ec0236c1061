import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { FlansibleConfig } from '@flansible/config';
import { FlansibleMetrics } from './flansible-metrics';

/** Methods kept as they are; any other (Node accepts some 30) is `other`. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The `route` label of a request that matched no route (404s, and what the body parser refused). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The route template a request matched (`/api/v1/jobs/:id`), never its path. Express leaves on
 * the request the last route that matched; Nest mounts middleware as wildcard routes (`/*path`),
 * and no handler of these apps has a wildcard, so a wildcard route is a middleware's mount.
 */
export function routeLabel(req: Request): string {
  const path: unknown = req.route?.path;
  return typeof path === 'string' && !path.includes('*') ? path : UNMATCHED_ROUTE;
}

export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'other';
}

/**
 * Times every request the app answers into flansible_http_request_duration_seconds. Installed
 * first (before the body parser), so requests refused before routing are counted too; not
 * installed at all with `metrics: false`.
 */
export function installHttpMetrics(app: INestApplication): void {
  if (!app.get(FlansibleConfig).metrics) return;
  const metrics = app.get(FlansibleMetrics);
  app.use((req: Request, res: Response, next: NextFunction) => {
    const start = process.hrtime.bigint();
    let done = false;
    // 'finish' when the answer is sent, 'close' alone when the client went away first (SSE).
    const observe = (): void => {
      if (done) return;
      done = true;
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      metrics.httpRequestServed(methodLabel(req.method), routeLabel(req), res.statusCode, seconds);
    };
    res.once('finish', observe);
    res.once('close', observe);
    next();
  });
}
