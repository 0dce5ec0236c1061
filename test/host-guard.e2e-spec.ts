import { describeHostGuard, GuardCase } from './scenarios/host-guard.scenarios';

jest.setTimeout(120_000);

describeHostGuard('embedded');

/** Against RabbitMQ and PostgreSQL: the first case of every kind. */
describeHostGuard('distributed', (cases: GuardCase[]) => cases.filter((c, i) => cases.findIndex((o) => o.kind === c.kind) === i));
