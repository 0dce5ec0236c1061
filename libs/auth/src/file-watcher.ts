import { FSWatcher, unwatchFile, watch, watchFile } from 'node:fs';
import { dirname } from 'node:path';

export interface FileWatcherOptions {
  /** Events are gathered this long before `onChange` runs (an editor's save is several events). */
  debounceMs: number;
  /** Safety net for file systems without inotify events (some network and container mounts). */
  pollIntervalMs: number;
}

/**
 * Calls `onChange` soon after a file may have changed: written in place, or replaced by a rename
 * (editors, config management, Kubernetes ConfigMap symlink swaps). Watches the directory, since a
 * watch on the file itself stays with the old inode after a rename, and also polls the file's
 * stat. Spurious calls are expected: the caller compares content.
 */
export class FileWatcher {
  private dirWatcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly poll = () => this.changed();

  constructor(
    private readonly file: string,
    private readonly onChange: () => void,
    private readonly options: FileWatcherOptions,
    private readonly onWatchError: (err: Error) => void = () => undefined,
  ) {}

  start(): void {
    try {
      this.dirWatcher = watch(dirname(this.file), { persistent: false }, () => this.changed());
      this.dirWatcher.on('error', (err) => {
        this.onWatchError(err);
        this.dirWatcher?.close();
        this.dirWatcher = null;
      });
    } catch (err) {
      this.onWatchError(err as Error);
    }
    watchFile(this.file, { persistent: false, interval: this.options.pollIntervalMs }, this.poll);
    // A change made between the caller's first read and these watches would otherwise go unseen.
    this.changed();
  }

  close(): void {
    this.closed = true;
    this.dirWatcher?.close();
    this.dirWatcher = null;
    unwatchFile(this.file, this.poll);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private changed(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closed) this.onChange();
    }, this.options.debounceMs);
    this.timer.unref();
  }
}
