import { ValidationOptions, registerDecorator } from 'class-validator';
import { isModuleArgs } from '@flansible/contracts';

/**
 * Module arguments: a plain JSON object (its strings reach Ansible marked unsafe, never
 * templated), or a `key=value` string without NUL or Jinja delimiters (Ansible would template it).
 * The predicate is contracts' isModuleArgs, which the runner applies too.
 */
export function IsModuleArgs(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isModuleArgs',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: `${String(propertyName)} must be an object, or a string without NUL or Jinja markers ({{ {% {#}: send an object for literal text`,
        ...options,
      },
      validator: { validate: (value: unknown) => isModuleArgs(value) },
    });
}
