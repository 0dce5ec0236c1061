import { HostSummary, JobEventType, JobOutcome, NewJobEvent } from '@flansible/contracts';
import { HOST_RESULT_EVENTS, summaryFromHostEvents, summaryFromStats } from '@flansible/store';

/**
 * For the differential suite (warm-runner.differential.integration-spec.ts): one run of a job
 * reduced to what must not change between two launch paths, with the per-run noise replaced by
 * placeholders. Every rule replaces a volatile token where it stands: no line, key or event is
 * ever dropped, so a real difference (an extra warning, another value, another order) survives.
 */

/** One run of a job as the differential suite records it. */
export interface RunRecord {
  outcome: JobOutcome;
  output: string;
  events: NewJobEvent[];
  /** The run's sandbox root (and its real path when that differs): each becomes `<ROOT>`. */
  roots: string[];
  /** How long the run took (never compared). */
  elapsedMs?: number;
}

/** An event without its time, its data normalised. */
export interface NormalisedEvent {
  type: string;
  host: string | null;
  task: string | null;
  data: unknown;
}

export interface NormalisedRun {
  status: string;
  returnCode: number | null;
  reason: string | null;
  output: string;
  events: NormalisedEvent[];
  /** The per-host summary as the store gives it: from the final stats, else counted from host events. */
  summary: HostSummary[];
  /** The per-host summary counted from the host events alone (what a live view shows). */
  liveSummary: HostSummary[];
}

export interface NormaliseOptions {
  /**
   * The job ran on several hosts at once (forks > 1): within one task, the results of different
   * hosts are put in host order, in the output and in the events. The results of one host keep
   * their order, and nothing is dropped.
   */
  anyHostOrder?: boolean;
}

export const ROOT_PLACEHOLDER = '<ROOT>';

/** Characters of Python's tempfile names (mkdtemp, mkstemp): 8 of them. */
const PY_TEMP = '[a-z0-9_]{8}(?![a-z0-9_])';

/** The command family's timings: `"delta": "0:00:00.003"`, `"start": "2024-01-31 12:00:00.123456"`. */
const DURATION = /^\d+:\d{2}:\d{2}(?:\.\d+)?$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?$/;
const TIMED_KEYS: Readonly<Record<string, readonly [RegExp, string]>> = {
  delta: [DURATION, '<DURATION>'],
  start: [TIMESTAMP, '<TIMESTAMP>'],
  end: [TIMESTAMP, '<TIMESTAMP>'],
};

/** The clock facts (setup): every value of ansible_date_time but tz, tz_dst and tz_offset. */
const DATE_TIME_FACTS = 'ansible_date_time';
const DATE_TIME_PLACEHOLDER = '<DATE_TIME>';
const isTimeZoneKey = (key: string) => key.startsWith('tz');

type Replacement = string | ((match: string, ...groups: string[]) => string);

/** Volatile tokens in text, each with its placeholder, applied in order after the roots are replaced. */
const VOLATILE: ReadonlyArray<readonly [RegExp, Replacement]> = [
  // Ansible's remote temporary directory: ansible-tmp-<time.time()>-<pid>-<random>.
  [/ansible-tmp-\d+(?:\.\d+)?-\d+-\d+/g, 'ansible-tmp-<TMP>'],
  // Its local one (ANSIBLE_LOCAL_TEMP): mkdtemp('ansible-local-<pid>'), and the files made in it.
  [new RegExp(`ansible-local-\\d+${PY_TEMP}`, 'g'), 'ansible-local-<TMP>'],
  [new RegExp(`(ansible-local-<TMP>/)tmp${PY_TEMP}`, 'g'), '$1tmp<TMP>'],
  // The executor's private directory for one job's files (extra vars, ...): Node's mkdtemp, 6 characters.
  [new RegExp(`(${ROOT_PLACEHOLDER}/data/tmp/job-)[A-Za-z0-9]{6}(?![A-Za-z0-9])`, 'g'), '$1<TMP>'],
  // Timings as JSON in the output (the keys of TIMED_KEYS).
  ...Object.entries(TIMED_KEYS).map(
    ([key, [pattern, placeholder]]) =>
      [new RegExp(`("${key}": ")${pattern.source.slice(1, -1)}"`, 'g'), `$1${placeholder}"`] as const,
  ),
  // ansible_date_time as JSON in the output: a flat object of strings.
  [
    new RegExp(`"${DATE_TIME_FACTS}": \\{[^{}]*\\}`, 'g'),
    (block) => block.replace(/("([a-z0-9_]+)": )"[^"]*"/g, (pair, head: string, key: string) => (isTimeZoneKey(key) ? pair : `${head}"${DATE_TIME_PLACEHOLDER}"`)),
  ],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<UUID>'],
];

/** `text` with each of `roots` as `<ROOT>` (longest first) and every volatile token as its placeholder. */
export function normaliseText(text: string, roots: readonly string[]): string {
  let out = text;
  for (const root of [...new Set(roots)].filter(Boolean).sort((a, b) => b.length - a.length)) {
    out = out.split(root).join(ROOT_PLACEHOLDER);
  }
  for (const [pattern, replacement] of VOLATILE) {
    // Two calls: replace() has an overload for each kind of replacement, none for the union.
    out = typeof replacement === 'string' ? out.replace(pattern, replacement) : out.replace(pattern, replacement);
  }
  return out;
}

/**
 * A JSON-like value with every string (keys too) normalised as text, and the same rules for
 * results carried as objects: the timing keys' values, and ansible_date_time's.
 */
export function normaliseValue(value: unknown, roots: readonly string[]): unknown {
  if (typeof value === 'string') return normaliseText(value, roots);
  if (Array.isArray(value)) return value.map((v) => normaliseValue(v, roots));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => {
      const timed = TIMED_KEYS[key];
      if (timed && typeof v === 'string' && timed[0].test(v)) return [key, timed[1]];
      if (key === DATE_TIME_FACTS && typeof v === 'object' && v !== null && !Array.isArray(v)) {
        return [key, Object.fromEntries(Object.entries(v).map(([k, x]) => [k, isTimeZoneKey(k) ? x : DATE_TIME_PLACEHOLDER]))];
      }
      return [normaliseText(key, roots), normaliseValue(v, roots)];
    }),
  );
}

/** Where one host's result starts in the default callback's output, and which host it is. */
function hostOfResultLine(line: string): string | null {
  const playbook = /^(?:ok|changed|skipping|fatal|failed|ignored|rescued): \[([^\]]+)\]/.exec(line);
  if (playbook) return playbook[1];
  const adhoc = /^(\S+) \| (?:SUCCESS|CHANGED|FAILED|UNREACHABLE)/.exec(line);
  return adhoc ? adhoc[1] : null;
}

function byHost<T extends { host: string }>(entries: T[]): T[] {
  // Array.prototype.sort is stable: one host's entries keep their order.
  return [...entries].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

/**
 * The output with each run of consecutive host results (one result: its first line and the
 * lines up to the next result, blank line or header) put in host order. For jobs whose hosts
 * run at once; their tasks should print no diff (printed before the result it belongs to).
 */
export function sortHostResults(output: string): string {
  const lines = output.split('\n');
  const out: string[] = [];
  let run: { host: string; lines: string[] }[] = [];
  const flush = () => {
    for (const entry of byHost(run)) out.push(...entry.lines);
    run = [];
  };
  for (const line of lines) {
    const host = hostOfResultLine(line);
    if (host !== null) run.push({ host, lines: [line] });
    else if (run.length && line !== '' && !/^[A-Z][A-Z ]*(\[| \*)/.test(line)) run[run.length - 1].lines.push(line);
    else {
      flush();
      out.push(line);
    }
  }
  flush();
  return out.join('\n');
}

/** The events with each run of consecutive host events put in host order (see sortHostResults). */
export function sortHostEvents<T extends { host: string | null }>(events: T[]): T[] {
  const out: T[] = [];
  let run: { host: string; event: T }[] = [];
  const flush = () => {
    out.push(...byHost(run).map((entry) => entry.event));
    run = [];
  };
  for (const event of events) {
    if (event.host !== null) run.push({ host: event.host, event });
    else {
      flush();
      out.push(event);
    }
  }
  flush();
  return out;
}

/** The per-host summaries of a run's events: the store's (final stats first) and the live count. */
export function hostSummaries(events: NewJobEvent[]): { summary: HostSummary[]; liveSummary: HostSummary[] } {
  const rows = events
    .filter((e) => HOST_RESULT_EVENTS.includes(e.type))
    .map((e) => ({ host: e.host, type: e.type, data: JSON.stringify(e.data) }));
  const liveSummary = summaryFromHostEvents(rows);
  const stats = [...events].reverse().find((e) => e.type === JobEventType.Stats);
  return { summary: (stats && summaryFromStats(stats.data)) ?? liveSummary, liveSummary };
}

/** What two runs of one job must agree on, whichever path launched them. */
export function normaliseRun(run: RunRecord, options: NormaliseOptions = {}): NormalisedRun {
  const text = (value: string) => normaliseText(value, run.roots);
  let output = text(run.output);
  let events: NormalisedEvent[] = run.events.map((e) => ({
    type: e.type,
    host: e.host,
    task: e.task === null ? null : text(e.task),
    data: normaliseValue(e.data, run.roots),
  }));
  if (options.anyHostOrder) {
    output = sortHostResults(output);
    events = sortHostEvents(events);
  }
  return {
    status: run.outcome.status,
    returnCode: run.outcome.returnCode,
    reason: run.outcome.reason === null ? null : text(run.outcome.reason),
    output,
    events,
    ...hostSummaries(run.events),
  };
}
