/**
 * The connection registry's tables (migration `fusion/connection_0001`, one of the framework's
 * migrations: `storage.migrate()` applies it with the others, as servers do at start).
 */
import type { Knex } from 'knex';

/** A StorageMigration (declared here by shape: storage/migrations.ts imports this file). */
interface ConnectionMigration {
  readonly name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** One row per live connection, on every instance. */
export const CONNECTION_TABLE = 'fusion_connection';
/** Payloads waiting for the instance that owns their target connection (consumed on delivery). */
export const CONNECTION_MESSAGE_TABLE = 'fusion_connection_message';

/** Creates the registry's tables. */
export const CONNECTION_MIGRATION: ConnectionMigration = {
  name: 'fusion/connection_0001',
  async up(knex: Knex) {
    await knex.schema.createTable(CONNECTION_TABLE, (t) => {
      t.uuid('id').primary();
      t.text('instance_id').notNullable();
      t.text('kind').notNullable();
      t.text('client_type').nullable();
      t.text('username').nullable();
      t.text('remote_address').nullable();
      t.timestamp('opened_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('expires_at', { useTz: true }).notNullable();
      t.index(['username'], 'fusion_connection_username_idx');
      t.index(['instance_id'], 'fusion_connection_instance_idx');
      t.index(['expires_at'], 'fusion_connection_expires_idx');
    });
    await knex.schema.createTable(CONNECTION_MESSAGE_TABLE, (t) => {
      t.bigIncrements('seq').primary();
      t.text('instance_id').notNullable();
      t.uuid('connection_id').nullable();
      t.text('topic').notNullable();
      t.text('payload').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.index(['instance_id', 'seq'], 'fusion_connection_message_instance_idx');
    });
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists(CONNECTION_MESSAGE_TABLE);
    await knex.schema.dropTableIfExists(CONNECTION_TABLE);
  },
};
