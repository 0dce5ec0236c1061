export * from './authenticated-user';
export * from './rbac-file';
export * from './rbac.service';
export * from './inventory-access.service';
export * from './public.decorator';
export * from './current-user.decorator';
export * from './auth.module';
