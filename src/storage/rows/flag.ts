/** A boolean column: SQLite stores booleans as 0/1; PostgreSQL as booleans. Both are read here. */
export type Flag = number | boolean;
export const flag = (value: Flag): boolean => value === true || value === 1;
