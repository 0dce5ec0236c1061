import { describeHostileInput } from './scenarios/hostile-input.scenarios';
import { HostileCase } from './scenarios/hostile-input.cases';

jest.setTimeout(120_000);

describeHostileInput('embedded');

/** Against RabbitMQ and PostgreSQL: the first two cases of every class of attack. */
describeHostileInput('distributed', (cases: HostileCase[]) =>
  cases.filter((c, i) => cases.findIndex((o) => o.attack === c.attack) + 2 > i),
);
