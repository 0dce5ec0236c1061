import { ApiProperty } from '@nestjs/swagger';

export class HealthDto {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';
  @ApiProperty({ enum: ['embedded', 'distributed'] })
  deployment!: 'embedded' | 'distributed';
}
