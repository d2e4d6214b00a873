/** Errors every metadata adapter raises the same way. */

/** The database was migrated by a newer Bucket: starting on it could corrupt what it wrote. */
export class SchemaTooNewError extends Error {
  constructor(found: number, known: number) {
    super(
      `the database schema is version ${found}, newer than this Bucket knows (${known}); ` +
        'upgrade the Bucket before starting it on this data',
    );
  }
}
