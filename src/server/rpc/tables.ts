/**
 * The RPC API's tables (migration `fusion/rpc_0001`, one of the framework's migrations, after
 * the connection registry's): channels (replay horizon), their messages (ids from one
 * sequence, allocated under the channel row's lock so they commit in id order per channel),
 * members (rows of the registry's connections: a swept connection leaves its channels) and
 * one-use tickets. `fusion/rpc_0002` adds each message's trace context (the broadcast's
 * `traceparent`, as JSON), sent with the message so members continue that trace.
 */
import type { Knex } from 'knex';
import { CONNECTION_TABLE } from '../connection/tables.js';

/** A StorageMigration (declared here by shape: storage/migrations.ts imports this file). */
interface RpcMigration {
  readonly name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** One row per channel ever written to: `pruned_through` is the replay horizon. */
export const CHANNEL_TABLE = 'fusion_rpc_channel';
/** Channel messages within retention. */
export const CHANNEL_MESSAGE_TABLE = 'fusion_rpc_message';
/** Which connection is in which channel. */
export const CHANNEL_MEMBER_TABLE = 'fusion_rpc_member';
/** One-use upgrade tickets (sha256 of the ticket, the credentials of the request that got it). */
export const TICKET_TABLE = 'fusion_rpc_ticket';

/** Creates the RPC tables. */
export const RPC_MIGRATION: RpcMigration = {
  name: 'fusion/rpc_0001',
  async up(knex: Knex) {
    await knex.schema.createTable(CHANNEL_TABLE, (t) => {
      t.text('name').primary();
      t.bigInteger('pruned_through').notNullable().defaultTo(0);
    });
    await knex.schema.createTable(CHANNEL_MESSAGE_TABLE, (t) => {
      t.bigIncrements('id').primary();
      t.text('channel').notNullable();
      t.text('data').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.index(['channel', 'id'], 'fusion_rpc_message_channel_idx');
      t.index(['created_at'], 'fusion_rpc_message_created_idx');
    });
    await knex.schema.createTable(CHANNEL_MEMBER_TABLE, (t) => {
      t.text('channel').notNullable();
      t.uuid('connection_id').notNullable().references('id').inTable(CONNECTION_TABLE).onDelete('CASCADE');
      t.text('username').nullable();
      t.primary(['channel', 'connection_id']);
      t.index(['connection_id'], 'fusion_rpc_member_connection_idx');
    });
    await knex.schema.createTable(TICKET_TABLE, (t) => {
      t.text('hash').primary();
      t.jsonb('headers').notNullable();
      t.timestamp('expires_at', { useTz: true }).notNullable();
    });
  },
  async down(knex: Knex) {
    for (const table of [TICKET_TABLE, CHANNEL_MEMBER_TABLE, CHANNEL_MESSAGE_TABLE, CHANNEL_TABLE]) await knex.schema.dropTableIfExists(table);
  },
};

/** Adds `trace_context` (the broadcast's W3C trace context as JSON, or null) to channel messages. */
export const RPC_TRACE_MIGRATION: RpcMigration = {
  name: 'fusion/rpc_0002_message_trace_context',
  async up(knex: Knex) {
    await knex.schema.alterTable(CHANNEL_MESSAGE_TABLE, (t) => {
      t.text('trace_context').nullable();
    });
  },
  async down(knex: Knex) {
    await knex.schema.alterTable(CHANNEL_MESSAGE_TABLE, (t) => {
      t.dropColumn('trace_context');
    });
  },
};
