import { DynamicModule, Module, Provider } from '@nestjs/common';

/**
 * For specs: providers every module of the testing app sees, such as the store and queue ports
 * or JOB_RUNNER_OPTIONS, which ExecutionModule's services inject but do not declare.
 */
@Module({})
export class GlobalProvidersModule {
  static with(...providers: (Provider & { provide: unknown })[]): DynamicModule {
    return { module: GlobalProvidersModule, global: true, providers, exports: providers.map((p) => p.provide as never) };
  }
}
