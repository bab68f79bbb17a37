/** PGlite's start parameters, shared by the server and the initdb child. */
import { PGlite } from '@electric-sql/pglite';

/**
 * PGlite's start parameters with 16 MB of shared buffers instead of PostgreSQL's 128 MB: the
 * buffers live in the WebAssembly memory and are zeroed at every start (measured: ~1.9 s of
 * CPU and ~100 MB resident for 128 MB), while an embedded database's working set is small.
 */
export const PGLITE_START_PARAMS: readonly string[] = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];
