// Helpers shared by the specs and the end-to-end suites; never imported by app code.
export { eventually } from './eventually';
export type { EventuallyOptions, Truthy } from './eventually';
export { FakeClock } from './fake-clock';
export { recorder } from './recorder';
export { heldHandler } from './held-handler';
export type { HeldHandler } from './held-handler';
export { silenceNestLogs } from './silence-nest-logs';
export { gate } from './gate';
export { WebhookReceiver } from './webhook-receiver';
export type { ReceivedWebhook } from './webhook-receiver';
export { basicHeaderSpellings } from './basic-header-spellings';
