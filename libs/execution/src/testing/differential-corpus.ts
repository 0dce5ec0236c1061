import { LaunchPath, NewJobEvent } from '@flansible/contracts';
import { realpath } from 'node:fs/promises';
import { ADHOC_CORPUS } from './corpus-adhoc';
import { CorpusJob } from './corpus-job';
import { PLAYBOOK_CORPUS } from './corpus-playbooks';
import { JobExecutorHarness } from './job-executor-harness';
import { RunRecord } from './normalise-run';

export type { CorpusJob } from './corpus-job';

/** Every job of the differential suite (warm-runner.differential.integration-spec.ts), in the order each side runs them. */
export const DIFFERENTIAL_CORPUS: CorpusJob[] = [...ADHOC_CORPUS, ...PLAYBOOK_CORPUS];

/** Runs one corpus job through a harness, with events: what the comparison reads. */
export async function runCorpusJob(h: JobExecutorHarness, job: CorpusJob): Promise<RunRecord & { launchPath: LaunchPath | null }> {
  const spec = await job.prepare(h);
  const events: NewJobEvent[] = [];
  const started = Date.now();
  const { outcome, output, launchPath } = await h.execute(spec, {
    appendEvents: async (batch) => void events.push(...batch),
    ...job.options,
  });
  const elapsedMs = Date.now() - started;
  const { root } = h.sandbox();
  return { outcome, output, events, roots: [...new Set([root, await realpath(root)])], elapsedMs, launchPath };
}
