import { INestApplication } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer, NestFactory, Reflector } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { IS_PUBLIC } from '@flansible/auth';
import { loadConfig } from '@flansible/config';
import { GatewayModule } from '../apps/gateway/src/gateway.module';
import { configureGatewayApp } from '../apps/gateway/src/configure-gateway-app';
import { Fixture } from './support/fixture';
import { createTestDatabase, createTestVhost } from './support/services';

jest.setTimeout(60_000);

/** Routes the OpenAPI document is served on (SwaggerModule, not a controller): public by design. */
const SPEC_ROUTES = /^\/api\/spec(\.html.*|\.json|\.yaml)?$/;

interface ExposedRoute {
  method: string;
  path: string;
}

/** Where Nest mounts RequireJsonMiddleware (`forRoutes('*path')`): a middleware, not a route. */
const MIDDLEWARE_MOUNTS = new Set(['/*path']);

/** Every method + path the Express app answers, as registered (params as :name). */
function exposedRoutes(app: INestApplication): ExposedRoute[] {
  const router = app.getHttpAdapter().getInstance().router as { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
  return router.stack
    .filter((layer) => layer.route && !MIDDLEWARE_MOUNTS.has(layer.route.path))
    .flatMap((layer) => Object.keys(layer.route!.methods).map((method) => ({ method: method.toUpperCase(), path: layer.route!.path })));
}

/** `METHOD /path` of every controller handler marked @Public(). */
function publicHandlers(app: INestApplication): Set<string> {
  const reflector = app.get(Reflector);
  const found = new Set<string>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: unknown[]) => unknown) | null;
      if (!controller) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = controller.prototype[name];
        const path = typeof handler === 'function' ? Reflect.getMetadata(PATH_METADATA, handler) : undefined;
        if (path === undefined || name === 'constructor') continue;
        if (!reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, controller])) continue;
        const method = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'ALL', 'OPTIONS', 'HEAD'][Reflect.getMetadata(METHOD_METADATA, handler) as number];
        found.add(`${method} ${`/${base}/${String(path)}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1')}`);
      }
    }
  }
  return found;
}

/**
 * The global guard, walked over the running gateway's real route table: every route Express
 * answers is either explicitly public (@Public(), or the served OpenAPI document) or answers 401
 * with a Basic challenge to a request without credentials. A route added without thought fails here.
 */
describe.each(['embedded', 'distributed'] as const)('route guard (%s)', (deployment) => {
  const fixture = new Fixture();
  let app: NestExpressApplication;
  let base: string;
  const drops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    const services: Record<string, string> = {};
    if (deployment === 'distributed') {
      // A database and a vhost of its own: suites run side by side and migrate as they like.
      const [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
      drops.push(db.drop, vhost.drop);
      Object.assign(services, { FLANSIBLE_DATABASE_URL: db.url, FLANSIBLE_AMQP_URL: vhost.url });
    }
    const config = loadConfig({ ...fixture.env(), FLANSIBLE_CONFIG_FILE: '/nonexistent/flansible.yml', ...services });
    // abortOnError false: a failing start fails this suite, not the whole jest process.
    app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config), { logger: false, bodyParser: false, abortOnError: false });
    configureGatewayApp(app, config);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(async () => {
    await app?.close();
    for (const drop of drops) await drop().catch(() => undefined);
    fixture.cleanup();
  });

  it('answers 401 without credentials on every route that is not explicitly public', async () => {
    const routes = exposedRoutes(app);
    const publicRoutes = publicHandlers(app);
    expect(routes.length).toBeGreaterThanOrEqual(20);
    expect([...publicRoutes]).toEqual(['GET /api/health', 'GET /api/health/ready']);
    const answers: string[] = [];
    for (const { method, path } of routes) {
      const url = base + path.replace(/:(\w+)/g, 'route-walk').replace(/\*(\w+)/g, 'route-walk');
      const res = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: method === 'GET' || method === 'HEAD' ? undefined : '{}' });
      await res.body?.cancel();
      const isPublic = publicRoutes.has(`${method} ${path}`) || SPEC_ROUTES.test(path);
      answers.push(`${method} ${path} ${isPublic ? 'public' : res.status === 401 && /^Basic /.test(res.headers.get('www-authenticate') ?? '') ? 'challenged' : `UNGUARDED ${res.status}`}`);
      if (isPublic) expect([`${method} ${path}`, res.status]).not.toEqual([`${method} ${path}`, 401]);
    }
    expect(answers.filter((a) => a.includes('UNGUARDED'))).toEqual([]);
    expect(answers.filter((a) => a.endsWith('challenged')).length).toBeGreaterThanOrEqual(15);
  });
});
