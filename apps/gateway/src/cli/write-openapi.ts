/**
 * npm run openapi: writes openapi.json from the real gateway app (every controller and DTO as
 * built), with keys sorted so the committed file changes only when the API does.
 */
import { NestFactory } from '@nestjs/core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { configWith } from '@flansible/config';
import { GatewayModule } from '../gateway.module';
import { buildOpenApiDocument } from '../openapi';

export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

async function main(output: string): Promise<void> {
  // A throwaway embedded store: building the document needs the app's modules, not its data.
  const dataDir = mkdtempSync(join(tmpdir(), 'flansible-openapi-'));
  try {
    const app = await NestFactory.create(GatewayModule.forRoot(configWith({ dataDir })), { logger: false });
    const document = buildOpenApiDocument(app);
    writeFileSync(output, `${JSON.stringify(sortKeys(document), null, 2)}\n`);
    await app.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main(resolve(process.argv[2] ?? 'openapi.json')).catch((err) => {
  process.stderr.write(`write-openapi: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
