// Specs, e2e suites and the bench only (`@flansible/store/testing`): never imported by app code.
export { createTestPostgresDatabase, TEST_POSTGRES_URL } from './test-postgres-database';
export type { TestPostgresDatabase } from './test-postgres-database';
export { POSTGRES_BACKEND, SQLITE_BACKEND, STORE_BACKENDS, withMigratedStores } from './store-backends';
export { commandSpec, failed, gitSpec, newJob, successful } from './job-fixtures';
export type { StoreBackend, StoreLocation, StoreLocationConfig } from './store-backends';
export { cursorOf, HISTORY_FILTERS, HISTORY_JOB_COUNT, HISTORY_PAGE, openSeededHistory } from './history-seed';
export type { SeededJob } from './history-seed';
export { openStoreDatabase } from '../create-job-store';
export { jobListQuery } from '../repositories/job-history.repository';
export type { JobListCursor, JobListFilter } from '../job-records';
export type { StoreDatabase, StoreDialect } from '../store-database';
