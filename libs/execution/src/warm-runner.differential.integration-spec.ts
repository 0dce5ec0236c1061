import { JobEventType, LaunchPath } from '@flansible/contracts';
import { CorpusJob, DIFFERENTIAL_CORPUS, runCorpusJob } from './testing/differential-corpus';
import { useJobExecutor } from './testing/job-executor-harness';
import { NormalisedRun, normaliseRun, RunRecord } from './testing/normalise-run';

jest.setTimeout(60_000);

/**
 * The warm runner changes how a job is launched, and nothing else: every job of the corpus
 * (testing/differential-corpus.ts) runs once on each side, both at once in separate sandboxes,
 * and the two runs must agree on the outcome (status, return code, reason), the output text,
 * the structured events (type, host, task, data) and the per-host summary, once the per-run
 * noise is replaced by placeholders (testing/normalise-run.ts).
 */
const cold = useJobExecutor({ warmRunner: false });
const warm = useJobExecutor({ warmRunner: true });

/** The job did what its entry says it covers, on this side. */
function expectJobDidItsPart(job: CorpusJob, run: RunRecord, side: string): void {
  const context = `${job.name} (${side}): ${run.outcome.reason ?? 'successful'}\n${run.output.slice(-3000)}`;
  expect({ context, status: run.outcome.status }).toEqual({ context, status: job.status });
  expect(run.events[0]?.type).toBe(JobEventType.PlaybookStart);
  expect(run.events[run.events.length - 1]?.type).toBe(JobEventType.Stats);
  for (const text of job.outputHas ?? []) expect(run.output).toContain(text);
  for (const text of job.outputLacks ?? []) expect(run.output).not.toContain(text);
  if (job.runsLongerThanSeconds !== undefined) expect(run.elapsedMs).toBeGreaterThan(job.runsLongerThanSeconds * 1000);
}

/** The normalised cold runs, for the last test: the corpus jobs must not all look alike. */
const coldRuns = new Map<string, NormalisedRun>();

describe('warm runner: every corpus job comes out the same as on the cold path', () => {
  it('has a corpus of at least 25 jobs with distinct names', () => {
    expect(DIFFERENTIAL_CORPUS.length).toBeGreaterThanOrEqual(25);
    expect(new Set(DIFFERENTIAL_CORPUS.map((job) => job.name)).size).toBe(DIFFERENTIAL_CORPUS.length);
  });

  it.each(DIFFERENTIAL_CORPUS.map((job) => [job.name, job] as const))('%s', async (_name, job) => {
    const [coldRun, warmRun] = await Promise.all([runCorpusJob(cold, job), runCorpusJob(warm, job)]);
    expectJobDidItsPart(job, coldRun, 'cold side');
    expectJobDidItsPart(job, warmRun, 'warm side');
    expect(coldRun.launchPath).toBe(LaunchPath.Cold);
    // A job with an ansible.cfg of its own takes the cold path on the warm side too.
    expect(warmRun.launchPath).toBe(job.ownAnsibleCfg ? LaunchPath.Cold : LaunchPath.Warm);

    const options = { anyHostOrder: job.anyHostOrder };
    const expected = normaliseRun(coldRun, options);
    const actual = normaliseRun(warmRun, options);
    coldRuns.set(job.name, expected);
    // Part by part, so that a failure says which part differs (a text diff for the output).
    expect({ status: actual.status, returnCode: actual.returnCode, reason: actual.reason }).toEqual({
      status: expected.status,
      returnCode: expected.returnCode,
      reason: expected.reason,
    });
    expect(actual.summary).toEqual(expected.summary);
    expect(actual.liveSummary).toEqual(expected.liveSummary);
    expect(actual.events).toEqual(expected.events);
    expect(actual.output).toBe(expected.output);
  });

  it('tells the corpus jobs apart after normalisation (the normaliser erases no real difference)', () => {
    // Meaningful when the whole corpus ran (not under -t): each job's normalised run is its own.
    const runs = [...coldRuns.entries()];
    const seen = new Map<string, string>();
    for (const [name, run] of runs) {
      const key = JSON.stringify([run.output, run.events]);
      expect({ name, sameAs: seen.get(key) }).toEqual({ name, sameAs: undefined });
      seen.set(key, name);
    }
  });
});
