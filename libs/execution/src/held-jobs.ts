import { JobOutcome } from '@flansible/contracts';
import { JobInterruption } from './job-executor';

/** A job this runner holds: executing, then, once finished, waiting for the store to take its outcome. */
export interface HeldJob {
  abort: AbortController;
  done: Promise<void>;
  /** Set when the job has finished and its outcome is being recorded. */
  outcome?: JobOutcome;
}

/**
 * Jobs this process holds, from their claim until the store has their outcome: to cancel them,
 * stop them at shutdown, and tell the sweep which of the store's running jobs really run here.
 * Also counts the claims, so the sweep can tell when one overlapped its read of the store.
 */
export class HeldJobs {
  private readonly held = new Map<string, HeldJob>();
  /** Claims sent to the store and not answered yet, and claims ever started (see claimMark). */
  private claimsInFlight = 0;
  private claimsStarted = 0;
  private closed = false;

  /** The jobs held now: executing, or finished with their outcome not yet stored. */
  get count(): number {
    return this.held.size;
  }

  /** True while the job executes in this process. */
  isRunning(jobId: string): boolean {
    const job = this.held.get(jobId);
    return job !== undefined && job.outcome === undefined;
  }

  /**
   * A mark to take just before reading from the store which jobs run on this runner, for
   * jobsNoLongerHeld; null while that read could not be judged (a claim in flight, shutdown).
   */
  claimMark(): number | null {
    return this.closed || this.claimsInFlight > 0 ? null : this.claimsStarted;
  }

  /**
   * Of `ids`, jobs the store held as running on this runner when read after claimMark() gave
   * `mark`: those this process neither runs nor is recording any more. None when a claim overlapped
   * the read: the store may then show a job claimed here that this process has not registered yet.
   */
  jobsNoLongerHeld(ids: string[], mark: number): string[] {
    if (this.claimMark() !== mark) return [];
    return ids.filter((id) => !this.held.has(id));
  }

  /** Runs a claim against the store, counted while it is in flight. */
  async claim<T>(claimInStore: () => Promise<T>): Promise<T> {
    this.claimsStarted++;
    this.claimsInFlight++;
    try {
      return await claimInStore();
    } finally {
      this.claimsInFlight--;
    }
  }

  /** Holds a claimed job until `finished` is called, once its outcome is stored (or given up). */
  hold(jobId: string): HeldJob & { finished: () => void } {
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const job = {
      abort: new AbortController(),
      done,
      finished: () => {
        this.held.delete(jobId);
        resolveDone();
      },
    };
    this.held.set(jobId, job);
    return job;
  }

  /** Stops a job executing here with the interruption; false when it is not executing here. */
  interrupt(jobId: string, interruption: JobInterruption): boolean {
    if (!this.isRunning(jobId)) return false;
    this.held.get(jobId)!.abort.abort(interruption);
    return true;
  }

  /** Shutdown: claim marks are null from now on. The jobs held at this moment. */
  close(): HeldJob[] {
    this.closed = true;
    return [...this.held.values()];
  }
}
