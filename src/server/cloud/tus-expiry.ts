/**
 * Removal of abandoned tus uploads (`cloud.upload_expiry`): every upload created before a given
 * time and not finished goes, with its partial data. Each is removed under its tus lock, taken only
 * if free (a PATCH in progress keeps its upload until the next sweep). Local store: the upload's
 * file and its `<id>.json` in the upload directory (a file left without its `.json`, older than
 * the cut, too). S3 store: the multipart upload under the uploads prefix is aborted (its parts
 * freed) and the upload's objects (`<id>`, `<id>.info`, `<id>.part`) deleted; only keys under that
 * reserved prefix are ever touched.
 */
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AbortMultipartUploadCommand, DeleteObjectsCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { FusionStorage } from '../storage/storage.js';
import type { S3CloudDriver } from './s3-driver.js';
import { tusLockKey } from './tus-locker.js';

/** Runs `fn` under upload `id`'s tus lock if it is free now; false when busy. */
async function whenFree(storage: FusionStorage, id: string, fn: () => Promise<void>): Promise<boolean> {
  return (await storage.tryAdvisoryLock(tusLockKey(id), fn)).acquired;
}

/** Removes the local store's uploads in `directory` created before `before`; the ids removed. */
export async function expireFileUploads(storage: FusionStorage, directory: string, before: Date, forget: (id: string) => void): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw error;
  }
  const present = new Set(names);
  const removed: string[] = [];
  for (const name of names) {
    if (!/^[0-9a-f]{32}(\.json)?$/.test(name)) continue;
    const id = name.slice(0, 32);
    if (name === id && present.has(`${id}.json`)) continue; // judged by its .json
    const created = name === id ? await modified(join(directory, id)) : await createdOf(join(directory, name));
    if (created === null || created >= before.getTime()) continue;
    const done = await whenFree(storage, id, async () => {
      if (name !== id && (await finished(directory, id))) return; // the last PATCH is committing it
      forget(id);
      await rm(join(directory, id), { force: true });
      await rm(join(directory, `${id}.json`), { force: true });
    });
    if (done) removed.push(id);
  }
  return removed;
}

async function modified(file: string): Promise<number | null> {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return null;
  }
}

/** The creation time in an upload's `.json` (its file time when the JSON is unreadable). */
async function createdOf(file: string): Promise<number | null> {
  try {
    const info = JSON.parse(await readFile(file, 'utf8')) as { creation_date?: unknown };
    const created = typeof info.creation_date === 'string' ? Date.parse(info.creation_date) : NaN;
    return Number.isFinite(created) ? created : await modified(file);
  } catch {
    return modified(file);
  }
}

/** True when upload `id` holds all its bytes (its commit is under way). */
async function finished(directory: string, id: string): Promise<boolean> {
  try {
    const info = JSON.parse(await readFile(join(directory, `${id}.json`), 'utf8')) as { size?: unknown };
    return typeof info.size === 'number' && (await stat(join(directory, id))).size === info.size;
  } catch {
    return false;
  }
}

/** Aborts the multipart uploads under `prefix` begun before `before` and deletes their objects; the keys removed. */
export async function expireS3Uploads(storage: FusionStorage, driver: S3CloudDriver, prefix: string, before: Date): Promise<string[]> {
  const { client, bucket } = driver;
  const removed: string[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
    for (const upload of page.Uploads ?? []) {
      const key = upload.Key;
      if (!key?.startsWith(prefix) || key.endsWith('.part') || upload.Initiated === undefined || upload.Initiated >= before) continue;
      const done = await whenFree(storage, key, async () => {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: upload.UploadId }));
        await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: key }, { Key: `${key}.info` }, { Key: `${key}.part` }], Quiet: true } }));
      });
      if (done) removed.push(key);
    }
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
  // What an aborted or crashed upload may have left: its objects, all older than the cut.
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    const stale = (page.Contents ?? []).filter((object) => object.Key?.startsWith(prefix) && object.LastModified !== undefined && object.LastModified < before).map((object) => ({ Key: object.Key! }));
    if (stale.length > 0) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: stale, Quiet: true } }));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return removed;
}
