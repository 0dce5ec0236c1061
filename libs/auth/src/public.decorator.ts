import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'flansible:public';

/** Marks a route that needs no credentials (health checks). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
