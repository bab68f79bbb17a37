/** Table-driven tests of the resolution rules (DESIGN.md section 11), pure and through storage. */
import { describe, expect, it } from '@jest/globals';
import { CLOUD_PERMISSIONS } from '../../../src/server/cloud/permissions.js';
import { resolvePermissions } from '../../../src/server/cloud/rbac.js';
import type { CloudCaller, RbacSettings } from '../../../src/server/cloud/rbac.js';
import type { CloudAssignment } from '../../../src/server/cloud/assignment-rows.js';
import { TEST_ROLES } from './harness.js';

const settings = { roles: TEST_ROLES, defaultRole: 'member', anonymousPermissions: ['READ_FILE'] } as RbacSettings;
const jane: CloudCaller = { kind: 'user', username: 'jane', groups: ['staff', 'admins'] };
const mike: CloudCaller = { kind: 'user', username: 'mike', groups: ['staff'] };

const a = (path: string, kind: 'user' | 'group', principal: string, role: string): CloudAssignment => ({ path, kind, principal, role });

const cases: { rule: string; caller: CloudCaller; path: string; assignments: CloudAssignment[]; role: string | null; from: string | null; permissions?: string[] }[] = [
  { rule: 'no assignment: the default role', caller: jane, path: 'a/b', assignments: [], role: 'member', from: null },
  { rule: 'an assignment on the path itself', caller: jane, path: 'a', assignments: [a('a', 'user', 'jane', 'owner')], role: 'owner', from: 'a' },
  { rule: 'children inherit the nearest ancestor', caller: jane, path: 'a/b/c.txt', assignments: [a('a', 'user', 'jane', 'owner')], role: 'owner', from: 'a' },
  { rule: 'a child assignment overrides its parent', caller: jane, path: 'a/b/c', assignments: [a('a', 'user', 'jane', 'owner'), a('a/b', 'user', 'jane', 'viewer')], role: 'viewer', from: 'a/b' },
  { rule: 'removal restores inheritance (the child row is gone)', caller: jane, path: 'a/b/c', assignments: [a('a', 'user', 'jane', 'owner')], role: 'owner', from: 'a' },
  { rule: "another user's assignment does not apply", caller: mike, path: 'a/b', assignments: [a('a', 'user', 'jane', 'owner')], role: 'member', from: null },
  { rule: 'a group assignment applies to its members', caller: mike, path: 'a/b', assignments: [a('a', 'group', 'staff', 'viewer')], role: 'viewer', from: 'a' },
  { rule: "a user's assignment beats a group's at the same depth", caller: jane, path: 'a', assignments: [a('a', 'group', 'staff', 'owner'), a('a', 'user', 'jane', 'viewer')], role: 'viewer', from: 'a' },
  { rule: "a nearer group assignment beats a farther user's", caller: jane, path: 'a/b', assignments: [a('a', 'user', 'jane', 'owner'), a('a/b', 'group', 'staff', 'viewer')], role: 'viewer', from: 'a/b' },
  {
    rule: 'several groups at one depth: the union of their roles',
    caller: jane,
    path: 'a',
    assignments: [a('a', 'group', 'staff', 'viewer'), a('a', 'group', 'admins', 'member')],
    role: 'member',
    from: 'a',
    permissions: ['READ_FILE', 'CREATE_SUB_DIRECTORY', 'READ_TREE_DIRECTORY'],
  },
  { rule: 'a group the caller is not in does not apply', caller: mike, path: 'a', assignments: [a('a', 'group', 'admins', 'owner')], role: 'member', from: null },
  { rule: 'an assignment at the root applies everywhere', caller: mike, path: 'x/y/z', assignments: [a('', 'group', 'staff', 'editor')], role: 'editor', from: '' },
  { rule: 'a role no longer configured grants nothing', caller: jane, path: 'a', assignments: [a('a', 'user', 'jane', 'gone')], role: 'gone', from: 'a', permissions: [] },
  { rule: 'anonymous: anonymous_permissions whatever the assignments', caller: { kind: 'anonymous' }, path: 'a', assignments: [a('a', 'user', 'jane', 'owner')], role: null, from: null, permissions: ['READ_FILE'] },
  { rule: 'API-key clients have every permission', caller: { kind: 'managed', username: 'service' }, path: 'a', assignments: [], role: null, from: null, permissions: [...CLOUD_PERMISSIONS] },
];

describe('cloud role resolution', () => {
  it.each(cases)('$rule', ({ caller, path, assignments, role, from, permissions }) => {
    const result = resolvePermissions(settings, caller, path, assignments);
    expect({ role: result.role, from: result.inherited_from }).toEqual({ role, from });
    const expected = permissions ?? (role === null ? [] : TEST_ROLES[role as keyof typeof TEST_ROLES]);
    expect([...result.permissions].sort()).toEqual([...expected].sort());
  });

  it('without a default role an unassigned user has no permission', () => {
    expect(resolvePermissions({ ...settings, defaultRole: null }, mike, 'a', [])).toEqual({ role: null, permissions: [], inherited_from: null });
  });
});
