// The SDK as one ES module for browser pages (npm run sdk:build → libs/sdk/dist/browser/), built
// with esbuild from the same sources as the Node build. The browser e2e test loads this very bundle.
import { build } from 'esbuild';
import { join } from 'node:path';

const SDK_ROOT = join(__dirname, '..');
export const BROWSER_BUNDLE_FILE = join(SDK_ROOT, 'dist', 'browser', 'flansible-sdk.mjs');

/** Bundles src/index.ts and its two dependencies (openapi-fetch, eventsource-parser) into `outfile`. */
export async function buildBrowserBundle(outfile = BROWSER_BUNDLE_FILE): Promise<string> {
  await build({
    entryPoints: [join(SDK_ROOT, 'src', 'index.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // What the SDK promises: current browsers (fetch streams, AbortSignal, TextDecoderStream-era APIs).
    target: ['es2022'],
    minify: false,
    sourcemap: true,
    logLevel: 'warning',
  });
  return outfile;
}

if (require.main === module) {
  buildBrowserBundle().then(
    (file) => console.log(`Wrote ${file}`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
