/** CloudEntry: a file or directory of the cloud tree, as the cloud API answers it (DESIGN.md section 11). */

/** One entry of `GET /api/cloud/tree/<dir>` (and the `data` of a created directory or written file). */
export interface CloudEntry {
  /** The last segment of `path`. */
  name: string;
  /** `a/b/c`, relative to the cloud root, without leading slash. */
  path: string;
  type: 'file' | 'directory';
  /** Bytes (0 for a directory). */
  size: number;
  /** ISO 8601 with offset (`2026-12-06T08:00:00+00:00`). */
  created: string;
  updated: string;
  /** The user who created it; null for an API-key client or an anonymous caller. */
  creator: string | null;
  /** The sha256 (hex) of a file's content; null for a directory. */
  sha256: string | null;
}
