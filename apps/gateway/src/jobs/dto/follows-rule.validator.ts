import { ValidationOptions, registerDecorator } from 'class-validator';
import { TextRule, followsRule } from '@flansible/contracts';

/**
 * The string follows `rule` of contracts' job-spec-rules.ts: the very predicate the runner's
 * message parser and argv builders apply, so the gateway never accepts what the runner refuses.
 * The message defaults to "<property> must be <rule.must>".
 */
export function FollowsRule(rule: TextRule, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'followsRule',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: `${String(propertyName)} must be ${rule.must}`, ...options },
      validator: { validate: (value: unknown) => followsRule(value, rule) },
    });
}
