import { sql, type ColumnDataType, type ColumnDefinitionBuilder, type Expression } from 'kysely';

/**
 * The few column types that differ between SQL backends. Migrations are written once against this,
 * so SQLite and PostgreSQL get the same tables, keys and indexes.
 */
export interface SchemaTypes {
  /** Which engine, for the rare migration whose DDL cannot be written once (e.g. dropping a UNIQUE). */
  readonly engine: 'sqlite' | 'postgres';
  /** Text that sorts and compares by UTF-8 bytes (pagination of names and tags relies on it). */
  readonly text: ColumnDataType | Expression<unknown>;
  /** A 64-bit integer (epoch-millisecond times, byte sizes). */
  readonly int64: ColumnDataType | Expression<unknown>;
  /** Raw bytes. */
  readonly bytes: ColumnDataType | Expression<unknown>;
  /** Type of an auto-assigned 64-bit surrogate key that is never reused. */
  readonly identityType: ColumnDataType | Expression<unknown>;
  /** Makes a column of {@link identityType} that auto-assigned primary key. */
  identity(col: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
}

/** SQLite: BINARY collation is byte order already; AUTOINCREMENT stops rowid reuse after deletes. */
export const SQLITE_TYPES: SchemaTypes = {
  engine: 'sqlite',
  text: 'text',
  int64: 'integer',
  bytes: 'blob',
  identityType: 'integer',
  identity: (col) => col.primaryKey().autoIncrement(),
};

/** PostgreSQL (for the scale-out backend): the "C" collation gives byte order. Not exercised yet. */
export const POSTGRES_TYPES: SchemaTypes = {
  engine: 'postgres',
  // A getter: built when a migration asks, so loading this module reads nothing of kysely (a
  // server start on SQLite never loads the query builder; scripts/build.mjs).
  get text() {
    return sql`text collate "C"`;
  },
  int64: 'bigint',
  bytes: 'bytea',
  identityType: 'bigint',
  identity: (col) => col.primaryKey().generatedByDefaultAsIdentity(),
};
