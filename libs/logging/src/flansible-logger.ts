import { ConsoleLogger, LogLevel } from '@nestjs/common';
import { inspect } from 'node:util';
import { currentLogFields, LogFields } from './log-context';

export type LogFormat = 'text' | 'json';

const FIELD_NAMES: (keyof LogFields)[] = ['requestId', 'jobId', 'runner'];

/**
 * Nest's console logger with the fields of the current request or job on every line. `json`: one
 * object per line ({level, time, context, msg, requestId, jobId, runner, stack}); `text`: Nest's
 * format with the fields after the context. Colours only when stdout is a terminal.
 */
export class FlansibleLogger extends ConsoleLogger {
  constructor(private readonly format: LogFormat) {
    super({ json: format === 'json', colors: format === 'text' && process.stdout.isTTY === true });
  }

  protected override printAsJson(
    message: unknown,
    options: { context: string; logLevel: LogLevel; writeStreamType?: 'stdout' | 'stderr'; errorStack?: unknown },
  ): void {
    const entry: Record<string, unknown> = {
      level: options.logLevel,
      time: new Date().toISOString(),
      context: options.context || undefined,
      msg: typeof message === 'string' ? message : inspect(message, { depth: 4, breakLength: Infinity }),
      ...currentLogFields(),
    };
    if (options.errorStack) entry.stack = String(options.errorStack);
    process[options.writeStreamType ?? 'stdout'].write(`${JSON.stringify(entry)}\n`);
  }

  protected override formatContext(context: string): string {
    const fields = currentLogFields();
    const named = FIELD_NAMES.filter((name) => fields[name]).map((name) => `${name}=${fields[name]}`);
    return super.formatContext(context) + (named.length ? `{${named.join(' ')}} ` : '');
  }

  get logFormat(): LogFormat {
    return this.format;
  }
}
