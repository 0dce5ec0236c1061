/**
 * What an ops portal does with @flansible/sdk: list the playbooks, launch one with extra vars,
 * show its output live, then the per-host summary. Exits non-zero when the job does not succeed.
 *
 *   npm run example:ops-portal
 *
 * Configuration (environment):
 *   FLANSIBLE_URL            default http://127.0.0.1:3000
 *   FLANSIBLE_USER           default admin
 *   FLANSIBLE_PASSWORD       default admin
 *   FLANSIBLE_PLAYBOOK_DIR   default sample   (inside the server's playbook root)
 *   FLANSIBLE_PLAYBOOK       default site.yml
 *   FLANSIBLE_EXTRA_VARS     JSON object, default {"greeting_name": "ops portal"}
 */
import { createFlansibleClient, HostSummary, isFlansibleApiError, JobResource } from '@flansible/sdk';

const config = {
  url: process.env.FLANSIBLE_URL ?? 'http://127.0.0.1:3000',
  user: process.env.FLANSIBLE_USER ?? 'admin',
  password: process.env.FLANSIBLE_PASSWORD ?? 'admin',
  playbookDir: process.env.FLANSIBLE_PLAYBOOK_DIR ?? 'sample',
  playbook: process.env.FLANSIBLE_PLAYBOOK ?? 'site.yml',
  extraVars: JSON.parse(process.env.FLANSIBLE_EXTRA_VARS ?? '{"greeting_name": "ops portal"}') as Record<string, unknown>,
};

async function main(): Promise<number> {
  const flansible = createFlansibleClient({ baseUrl: config.url, username: config.user, password: config.password });

  // 1. What can be run: every playbook under the server's playbook root.
  const playbooks = await flansible.listPlaybooks();
  console.log(`Playbooks on ${config.url}:`);
  for (const { playbook_dir, playbook } of playbooks) console.log(`  ${playbook_dir}/${playbook}`);

  // 2. Launch one. The Idempotency-Key makes a retried click return the same job.
  const job = await flansible.submitPlaybook(
    { playbook_dir: config.playbookDir, playbook: config.playbook, extra_vars: config.extraVars },
    { idempotencyKey: `ops-portal-${Date.now()}` },
  );
  console.log(`\nLaunched ${config.playbookDir}/${config.playbook} as job ${job.id} (${job.status})`);

  // Ctrl-C is the portal's cancel button: the job ends as canceled and the stream says so.
  process.once('SIGINT', () => {
    console.log('\nCanceling...');
    flansible.cancelJob(job.id).catch((err: unknown) => console.error(`cancel failed: ${String(err)}`));
  });

  // 3. Follow it live: lines as Ansible prints them; a dropped connection resumes where it left off.
  let final: JobResource['status'] = job.status;
  for await (const message of flansible.followJob(job.id)) {
    switch (message.type) {
      case 'output':
        for (const line of message.data.lines) console.log(`  | ${line}`);
        break;
      case 'status':
        console.log(`[status] ${message.data.status}${message.data.reason ? `: ${message.data.reason}` : ''}`);
        break;
      case 'end':
        final = message.data.status;
        break;
      case 'event':
        break; // structured events (per-host task results) are there for dashboards; the summary below adds them up
    }
  }

  // 4. The per-host summary, as a portal's result table shows it.
  const summary = await flansible.getJobSummary(job.id);
  console.log(`\nJob ${job.id} ended: ${final}`);
  console.log(formatSummary(summary.hosts));
  if (final !== 'successful') {
    const { reason } = await flansible.getJob(job.id);
    console.error(`Job did not succeed: ${reason ?? final}`);
    return 1;
  }
  return 0;
}

function formatSummary(hosts: HostSummary[]): string {
  const columns = ['ok', 'changed', 'unreachable', 'failed', 'skipped', 'rescued', 'ignored'] as const;
  const width = Math.max(4, ...hosts.map((h) => h.host.length));
  const header = ['host'.padEnd(width), ...columns.map((c) => c.padStart(c.length))].join('  ');
  const rows = hosts.map((h) => [h.host.padEnd(width), ...columns.map((c) => String(h[c]).padStart(c.length))].join('  '));
  return [header, ...rows].join('\n');
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // The server's error body says what was wrong (unknown playbook, no access, bad field...).
    console.error(isFlansibleApiError(err) ? `Flansible refused: ${err.message}` : `Failed: ${String(err)}`);
    process.exit(2);
  },
);
