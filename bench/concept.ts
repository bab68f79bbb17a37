/**
 * Concept codec benchmark: `JSON.stringify(case)` + `Case.fromJSON(JSON.parse(s))` against
 * plain `JSON.stringify(obj)` + `JSON.parse(s)` on the same document, in the same run.
 * Run: `npx tsx bench/concept.ts [iterations]`.
 */
import { Case } from '../src/concept/index.js';

const iterations = Number(process.argv[2] ?? 500_000);
const warmup = Math.min(50_000, Math.ceil(iterations / 4));

const source = new Case({
  guid: '0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d',
  created: '2024-11-02T09:30:00+00:00',
  updated: '2024-11-03T10:00:00+00:00',
  name: 'Suspicious login',
  description: 'VPN login from unusual country, flagged by the SOC on-call analyst',
  acs: ['soc', 'cert', 'analysts'],
  webhooks: ['https://hooks.example.org/fusion'],
});
const plain = source.toJSON();

let sink = 0;

function concept(n: number): void {
  let c = source;
  for (let i = 0; i < n; i += 1) {
    const text = JSON.stringify(c);
    c = Case.fromJSON(JSON.parse(text));
    sink += text.length;
  }
  if (!c.equals(source)) throw new Error('concept round trip changed the case');
}

function baseline(n: number): void {
  let obj: unknown = plain;
  for (let i = 0; i < n; i += 1) {
    const text = JSON.stringify(obj);
    obj = JSON.parse(text);
    sink += text.length;
  }
}

function opsPerSecond(run: (n: number) => void): number {
  const start = process.hrtime.bigint();
  run(iterations);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return iterations / seconds;
}

concept(warmup);
baseline(warmup);
// Alternate the two three times and keep each one's best run, to even out machine noise.
const conceptRuns: number[] = [];
const baselineRuns: number[] = [];
for (let round = 0; round < 3; round += 1) {
  baselineRuns.push(opsPerSecond(baseline));
  conceptRuns.push(opsPerSecond(concept));
}
const conceptOps = Math.max(...conceptRuns);
const baselineOps = Math.max(...baselineRuns);
const size = JSON.stringify(plain).length;
console.log(`document: Case, ${size} bytes; iterations: ${iterations} (warm-up ${warmup})`);
console.log(`baseline  JSON.stringify + JSON.parse:              ${Math.round(baselineOps).toLocaleString('en')} ops/s`);
console.log(`concept   JSON.stringify(case) + Case.fromJSON(parse): ${Math.round(conceptOps).toLocaleString('en')} ops/s`);
console.log(`ratio (baseline / concept): ${(baselineOps / conceptOps).toFixed(2)}x slower (target <= 3x)`);
if (sink === 0) console.log('');
