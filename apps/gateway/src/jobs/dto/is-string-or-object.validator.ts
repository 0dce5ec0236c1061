import { ValidationOptions, registerDecorator } from 'class-validator';

/** A string or a plain JSON object (not an array, not null). */
export function IsStringOrObject(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isStringOrObject',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: `${String(propertyName)} must be an object or a string`, ...options },
      validator: {
        validate: (value: unknown) =>
          (typeof value === 'string' && !value.includes('\0')) ||
          (typeof value === 'object' && value !== null && !Array.isArray(value)),
      },
    });
}
