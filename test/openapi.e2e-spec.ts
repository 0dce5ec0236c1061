import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment } from './support/deployment';

jest.setTimeout(60_000);

type Operation = {
  operationId: string;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  security?: unknown[];
};

const committed = JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
};
const operations = Object.entries(committed.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({ path, method, op })),
);

/** The committed openapi.json is complete enough to generate SDKs from, and is what the gateway serves. */
describe('OpenAPI document', () => {
  it('gives every operation a unique, readable operationId', () => {
    const ids = operations.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z]+$/);
  });

  it('documents a response schema for every success and the shared error body for every error', () => {
    for (const { path, method, op } of operations) {
      for (const [code, response] of Object.entries(op.responses)) {
        if (code === '204') continue; // No Content: a body would be wrong (DELETE /api/v1/webhooks/{id})
        const where = `${method.toUpperCase()} ${path} ${code}`;
        const content = response.content ?? {};
        // 204 No Content is the one answer without a body.
        expect([where, Object.keys(content).length > 0]).toEqual([where, code !== '204']);
        if (Number(code) >= 400) {
          expect([where, content['application/json']?.schema]).toEqual([where, { $ref: '#/components/schemas/ErrorBodyDto' }]);
        }
      }
    }
  });

  it('declares HTTP Basic auth and API tokens (bearer), 401 and 429 on every authenticated operation', () => {
    expect(committed.components.securitySchemes).toEqual({
      basic: expect.objectContaining({ type: 'http', scheme: 'basic' }),
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
    // Liveness and readiness answer without credentials, for orchestrators.
    for (const { path, method, op } of operations.filter(({ path }) => !['/api/health', '/api/health/ready'].includes(path))) {
      // Either scheme: two alternatives, each on its own.
      expect([`${method} ${path}`, op.security, Object.keys(op.responses)]).toEqual([
        `${method} ${path}`,
        [{ basic: [] }, { bearer: [] }],
        expect.arrayContaining(['401', '429']),
      ]);
    }
  });

  it('documents the live stream as text/event-stream', () => {
    const stream = committed.paths['/api/v1/jobs/{id}/stream'].get;
    expect(Object.keys(stream.responses['200'].content ?? {})).toEqual(['text/event-stream']);
  });

  describe('as served', () => {
    let deployment: Deployment;
    beforeAll(async () => {
      deployment = await Deployment.start('embedded');
    });
    afterAll(() => deployment?.stop());

    it('is the document the running gateway serves at /api/spec.json', async () => {
      const served = await deployment.api.as(null).get<{ paths: unknown; components: unknown }>('/api/spec.json');
      expect(served.body.paths).toEqual(committed.paths);
      expect(served.body.components).toEqual(committed.components);
    });
  });
});
