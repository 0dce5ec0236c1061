/**
 * A job handler for concurrency specs: every call waits until release(), and the counters say how
 * many run now, the most that ran at once, and how many finished.
 */
export interface HeldHandler {
  readonly running: number;
  readonly mostAtOnce: number;
  readonly done: number;
  handler: () => Promise<void>;
  release: () => void;
}

export function heldHandler(): HeldHandler {
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const state = { running: 0, mostAtOnce: 0, done: 0 };
  return {
    get running() {
      return state.running;
    },
    get mostAtOnce() {
      return state.mostAtOnce;
    },
    get done() {
      return state.done;
    },
    handler: async () => {
      state.running++;
      state.mostAtOnce = Math.max(state.mostAtOnce, state.running);
      await released;
      state.running--;
      state.done++;
    },
    release: () => release(),
  };
}
