/**
 * Rows of the SQL adapters (SQLite and PostgreSQL share the schema's column names) and their
 * conversion to domain records, one file per concern under `rows/`; this module gathers them, so
 * both adapters import from one place.
 */
export * from './rows/audit.js';
export * from './rows/events.js';
export * from './rows/governance.js';
export * from './rows/modes.js';
export * from './rows/retention.js';
export * from './rows/versions.js';
export * from './rows/exceptions.js';
export * from './rows/integrity.js';
