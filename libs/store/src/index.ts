export { JobStore } from './job-store';
export type {
  CancelResult,
  CreatedJob,
  EventQuery,
  JobListCursor,
  JobListFilter,
  JobRecord,
  NewJob,
  OutputLines,
} from './job-store';
export { StoreModule } from './store.module';
export { createJobStore, SQLITE_FILE_NAME } from './create-job-store';
export { countNewlines } from './output-lines';
// For specs and e2e suites that run against PostgreSQL: one throwaway database per run.
export { createTestPostgresDatabase, TEST_POSTGRES_URL } from './testing/test-postgres-database';
export type { TestPostgresDatabase } from './testing/test-postgres-database';
