import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { buildBrowserBundle } from '../libs/sdk/build/browser-bundle';
import { Deployment, DeploymentKind } from './support/deployment';
import { StaticSite } from './support/static-site';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '..');
const EXAMPLE = join(ROOT, 'examples', 'browser-portal');
/** Debian's chromium (`.ci/run` installs it); playwright-core drives it, it downloads nothing. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/**
 * The ops portal's situation: a page on another origin than the gateway's, in a real browser, with
 * the SDK's browser bundle. A listed origin signs in with a token, launches the sample playbook,
 * follows it live and shows the per-host summary; an unlisted origin gets nowhere.
 */
describe.each<[DeploymentKind]>([['embedded'], ['distributed']])('the SDK in a browser page on another origin (%s)', (kind) => {
  let bundleDir: string;
  let allowed: StaticSite;
  let unlisted: StaticSite;
  let deployment: Deployment;
  let browser: Browser;

  beforeAll(async () => {
    bundleDir = mkdtempSync(join(tmpdir(), 'flansible-bundle-'));
    const bundle = await buildBrowserBundle(join(bundleDir, 'flansible-sdk.mjs'));
    const files = { '/index.html': join(EXAMPLE, 'index.html'), '/app.mjs': join(EXAMPLE, 'app.mjs'), '/flansible-sdk.mjs': bundle };
    [allowed, unlisted] = await Promise.all([StaticSite.serve(files), StaticSite.serve(files)]);
    deployment = new Deployment(kind, { env: { FLANSIBLE_CORS_ORIGINS: allowed.origin } });
    deployment.fixture.writePlaybook('sample/site.yml', readFileSync(join(ROOT, 'playbooks', 'sample', 'site.yml'), 'utf8'));
    await deployment.boot();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    await deployment?.stop();
    await Promise.all([allowed?.close(), unlisted?.close()]);
    rmSync(bundleDir, { recursive: true, force: true });
  });

  /** Opens the portal on `site`, signs in with a fresh token of the admin, and presses Run. */
  async function runFrom(site: StaticSite): Promise<Page> {
    const { token } = await deployment.api.sdk.createToken({ name: `portal-${kind}`, expires_in_days: 1, scope: 'run' });
    const page = await browser.newPage();
    await page.goto(`${site.origin}/index.html?gateway=${encodeURIComponent(deployment.api.baseUrl)}`);
    await page.fill('#token', token);
    await page.click('#run');
    await page.waitForSelector('body[data-state="done"], body[data-state="failed"]', { timeout: 120_000 });
    return page;
  }

  it('runs the sample playbook from a listed origin, following its output live, and shows the per-host summary', async () => {
    const page = await runFrom(allowed);
    try {
      expect(await page.textContent('#error')).toBe('');
      expect(await page.getAttribute('body', 'data-state')).toBe('done');
      expect(await page.textContent('#status')).toBe('successful');
      // Live: the stream told the page the job was running before it ended.
      expect(await page.textContent('#statuses')).toMatch(/running.*successful/);
      expect(Number(await page.getAttribute('body', 'data-output-messages'))).toBeGreaterThan(0);
      const output = await page.textContent('#output');
      expect(output).toContain('Hello from Flansible, browser');
      expect(output).toMatch(/PLAY RECAP[\s\S]*localhost\s*: ok=2/);
      const cells = await page.$$eval('#summary tr[data-host="localhost"] td', (tds) => tds.map((td) => td.textContent));
      expect(cells).toEqual(['localhost', '2', '0', '0', '0', '0']);
      // The job the page launched is the admin's, done, as the API reports it.
      const jobId = (await page.textContent('#job-id'))!;
      expect(await deployment.api.sdk.getJob(jobId)).toMatchObject({ status: 'successful', submitted_by: 'admin' });
    } finally {
      await page.close();
    }
  });

  it('gets nowhere from an unlisted origin: the browser stops the call before any job is submitted', async () => {
    const before = await deployment.countJobs();
    const page = await runFrom(unlisted);
    try {
      expect(await page.getAttribute('body', 'data-state')).toBe('failed');
      expect(await page.textContent('#error')).toMatch(/^TypeError: Failed to fetch/);
      expect(await page.textContent('#job-id')).toBe('–');
      expect(await deployment.countJobs()).toBe(before);
    } finally {
      await page.close();
    }
  });
});
