import { DynamicModule, Global, Module } from '@nestjs/common';
import { FlansibleConfig } from './flansible-config';

/** Makes the configuration loaded at boot injectable everywhere as FlansibleConfig. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: FlansibleConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: FlansibleConfig, useValue: config }],
      exports: [FlansibleConfig],
    };
  }
}
