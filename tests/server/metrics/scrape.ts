/** Scrapes /api/metrics over a real socket and reads samples out of the text exposition. */
import { request } from 'undici';

/** One scrape: status, content type and body. */
export interface Scrape {
  status: number;
  contentType: string;
  text: string;
}

/** GET `${baseUrl}/api/metrics` with `headers`. */
export async function scrape(baseUrl: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const answer = await request(`${baseUrl}/api/metrics`, { headers });
  return { status: answer.statusCode, contentType: String(answer.headers['content-type'] ?? ''), text: await answer.body.text() };
}

/** The value of sample `name` whose labels include `labels` (undefined when absent). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found = new Map<string, string>();
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) found.set(pair[1]!, pair[2]!);
    if (Object.entries(labels).every(([key, value]) => found.get(key) === value)) return Number(match[3]);
  }
  return undefined;
}
