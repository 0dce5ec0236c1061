/**
 * Runs tasks that share a key one after another, in the order they came, within this process;
 * tasks with different keys run side by side. A task that fails does not stop the next one.
 */
export class OneAtATime {
  /** Per key, the last task handed in; the next one waits for it. */
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const run = previous.then(task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }
}
