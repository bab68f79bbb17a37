/**
 * The cloud tables: one row per file or directory (metadata shared by every instance, the
 * bytes live in the driver) and the role assignments. Appended to FUSION_MIGRATIONS.
 */
import type { Knex } from 'knex';

/** A StorageMigration (declared here by shape: storage/migrations.ts imports this file). */
interface CloudMigration {
  readonly name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Migration `fusion/cloud_0001`: tables fusion_cloud_entry and fusion_cloud_assignment. */
export const CLOUD_MIGRATION: CloudMigration = {
  name: 'fusion/cloud_0001_entry_assignment',
  async up(knex) {
    await knex.schema.createTable('fusion_cloud_entry', (t) => {
      t.text('path').primary();
      t.text('parent').notNullable();
      t.text('kind').notNullable().checkIn(['file', 'directory'], 'fusion_cloud_entry_kind_check');
      t.bigInteger('size').notNullable().defaultTo(0);
      t.text('sha256').nullable();
      t.text('creator').nullable();
      t.timestamp('created', { useTz: true }).notNullable();
      t.timestamp('updated', { useTz: true }).notNullable();
      t.index(['parent'], 'fusion_cloud_entry_parent_idx');
      t.index(['creator'], 'fusion_cloud_entry_creator_idx');
    });
    await knex.schema.createTable('fusion_cloud_assignment', (t) => {
      t.text('path').notNullable();
      t.text('principal_kind').notNullable().checkIn(['user', 'group'], 'fusion_cloud_assignment_kind_check');
      t.text('principal').notNullable();
      t.text('role').notNullable();
      t.timestamp('created', { useTz: true }).notNullable();
      t.primary(['path', 'principal_kind', 'principal']);
    });
  },
  async down(knex) {
    await knex.schema.dropTable('fusion_cloud_assignment');
    await knex.schema.dropTable('fusion_cloud_entry');
  },
};
