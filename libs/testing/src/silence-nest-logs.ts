import { Logger } from '@nestjs/common';

/** Silences Nest's logger for the spec file (expected warnings are noise), and restores it after. */
export function silenceNestLogs(): void {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']));
}
