import { describeHostileInput } from './scenarios/hostile-input.scenarios';
import { HostileCase } from './scenarios/hostile-input.cases';

jest.setTimeout(120_000);

/** The first `n` cases of every class of attack. */
const firstOfEachAttack = (n: number) => (cases: HostileCase[]) => cases.filter((c, i) => cases.findIndex((o) => o.attack === c.attack) + n > i);

/**
 * Embedded: every case runs in-process over the same store and queue (apps/gateway/src/jobs/
 * hostile-input.http.spec.ts); here one of each class, through the built gateway process.
 */
describeHostileInput('embedded', firstOfEachAttack(1));

/** Against RabbitMQ and PostgreSQL: the first two cases of every class of attack. */
describeHostileInput('distributed', firstOfEachAttack(2));
