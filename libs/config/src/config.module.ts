import { DynamicModule, Global, Module } from '@nestjs/common';
import { Clock, SYSTEM_CLOCK } from './clock';
import { FlansibleConfig } from './flansible-config';

/** Makes the configuration loaded at boot injectable everywhere as FlansibleConfig, and the Clock. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: FlansibleConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: FlansibleConfig, useValue: config },
        { provide: Clock, useValue: SYSTEM_CLOCK },
      ],
      exports: [FlansibleConfig, Clock],
    };
  }
}
