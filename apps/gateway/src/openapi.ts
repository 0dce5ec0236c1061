import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Flansible')
    .setDescription('Run Ansible ad-hoc commands and playbooks over a REST API. Compatible with the original Flansible.')
    .setVersion('1.0.0')
    .addBasicAuth()
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'flt_ API token',
      description: 'An API token from POST /api/v1/tokens. Scope `read` only reads; `run` may also submit, cancel, update git and manage tokens.',
    })
    .build();
  return SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controllerKey, methodKey) => methodKey,
  });
}

/**
 * Serves the spec where the original did: /api/spec and /api/spec.json (JSON), /api/spec.html
 * (browsable). Built on the first request for it, once: walking every route and DTO costs a
 * start-up (each gateway, each in-process spec) about 100 ms of CPU that few of them need.
 */
export function serveOpenApi(app: INestApplication, buildDocument: () => OpenAPIObject): void {
  let document: OpenAPIObject | undefined;
  const built = () => (document ??= buildDocument());
  SwaggerModule.setup('api/spec.html', app, built, {
    jsonDocumentUrl: 'api/spec.json',
    yamlDocumentUrl: 'api/spec.yaml',
    customSiteTitle: 'Flansible API',
  });
  app.getHttpAdapter().get('/api/spec', (_req: unknown, res: { json(body: unknown): void }) => res.json(built()));
}
