/** Rows of fusion_cloud_assignment: which role a user or a group holds on a path. */
import type { Knex } from 'knex';
import { affectedRows } from '../storage/affected-rows.js';
import { escapeLike } from './entry-rows.js';

/** Table of role assignments (migration fusion/cloud_0001). */
export const ASSIGNMENT_TABLE = 'fusion_cloud_assignment';

/** Who an assignment is for. */
export type PrincipalKind = 'user' | 'group';

/** One role assignment. */
export interface CloudAssignment {
  path: string;
  kind: PrincipalKind;
  principal: string;
  role: string;
}

interface AssignmentRow {
  path: string;
  principal_kind: PrincipalKind;
  principal: string;
  role: string;
}

function toAssignment(row: AssignmentRow): CloudAssignment {
  return { path: row.path, kind: row.principal_kind, principal: row.principal, role: row.role };
}

/** The assignments on any of `paths` for the user or any of the groups. */
export async function selectAssignmentsFor(knex: Knex, paths: readonly string[], username: string, groups: readonly string[]): Promise<CloudAssignment[]> {
  const rows = (await knex<AssignmentRow>(ASSIGNMENT_TABLE)
    .whereIn('path', [...paths])
    .andWhere((q) => {
      q.where({ principal_kind: 'user', principal: username });
      if (groups.length > 0) q.orWhere((g) => g.where({ principal_kind: 'group' }).whereIn('principal', [...groups]));
    })) as AssignmentRow[];
  return rows.map(toAssignment);
}

/** The assignments made on `path` itself, by kind then principal. */
export async function selectAssignmentsOn(knex: Knex, path: string): Promise<CloudAssignment[]> {
  const rows = (await knex<AssignmentRow>(ASSIGNMENT_TABLE).where({ path }).orderBy(['principal_kind', 'principal'])) as AssignmentRow[];
  return rows.map(toAssignment);
}

/** Gives `role` to the principal on `path` (replacing its previous role there). */
export async function upsertAssignment(knex: Knex, assignment: CloudAssignment, now: Date): Promise<void> {
  await knex(ASSIGNMENT_TABLE)
    .insert({ path: assignment.path, principal_kind: assignment.kind, principal: assignment.principal, role: assignment.role, created: now })
    .onConflict(['path', 'principal_kind', 'principal'])
    .merge(['role', 'created']);
}

/** Removes the principal's assignment on `path`; false when there was none. */
export async function deleteAssignment(knex: Knex, path: string, kind: PrincipalKind, principal: string): Promise<boolean> {
  return affectedRows(await knex(ASSIGNMENT_TABLE).where({ path, principal_kind: kind, principal }).delete()) > 0;
}

/** Removes every assignment on `path` and below it (the tree was deleted). */
export async function deleteAssignmentsBelow(knex: Knex, path: string): Promise<void> {
  const query = knex(ASSIGNMENT_TABLE);
  if (path === '') await query.delete();
  else await query.where({ path }).orWhere('path', 'like', `${escapeLike(path)}/%`).delete();
}

/** The caller's assignments on `dir`, its ancestors and everything below it (for the zip). */
export async function selectAssignmentsInTree(knex: Knex, ancestors: readonly string[], dir: string, username: string, groups: readonly string[]): Promise<CloudAssignment[]> {
  const rows = (await knex<AssignmentRow>(ASSIGNMENT_TABLE)
    .where((q) => {
      q.whereIn('path', [...ancestors]);
      if (dir === '') q.orWhereNotNull('path');
      else q.orWhere('path', 'like', `${escapeLike(dir)}/%`);
    })
    .andWhere((q) => {
      q.where({ principal_kind: 'user', principal: username });
      if (groups.length > 0) q.orWhere((g) => g.where({ principal_kind: 'group' }).whereIn('principal', [...groups]));
    })) as AssignmentRow[];
  return rows.map(toAssignment);
}
