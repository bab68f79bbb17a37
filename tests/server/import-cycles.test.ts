/** The source tree has no import cycle (type-only imports included) and the client layer never reaches server code: APIs depend on host.ts, not on the server. */
import { describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../src', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const pattern = /(?:import|export)\s[^'";]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|import\s+['"](\.[^'"]+)['"]/g;
  for (const file of files) {
    const targets: string[] = [];
    for (const match of readFileSync(file, 'utf8').matchAll(pattern)) {
      let target = resolve(dirname(file), (match[1] ?? match[2] ?? match[3])!.replace(/\.js$/, '.ts'));
      if (!target.endsWith('.ts')) target += '.ts';
      if (!existsSync(target) && existsSync(target.replace(/\.ts$/, '/index.ts'))) target = target.replace(/\.ts$/, '/index.ts');
      if (existsSync(target)) targets.push(target);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Strongly connected components of more than one file, or a file importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    order.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!order.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, order.get(next)!));
      }
    }
    if (low.get(node) === order.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component);
    }
  };
  for (const node of graph.keys()) if (!order.has(node)) visit(node);
  return found;
}

/** For each start, the first import chain (start, ..., target) that reaches a file `isTarget` accepts. */
function reachedFrom(graph: Map<string, string[]>, starts: readonly string[], isTarget: (file: string) => boolean): string[][] {
  const chains: string[][] = [];
  for (const start of starts) {
    const from = new Map<string, string | null>([[start, null]]);
    const queue = [start];
    let hit: string | undefined;
    while (queue.length > 0 && hit === undefined) {
      const node = queue.shift()!;
      for (const next of graph.get(node) ?? []) {
        if (from.has(next)) continue;
        from.set(next, node);
        if (isTarget(next)) {
          hit = next;
          break;
        }
        queue.push(next);
      }
    }
    if (hit === undefined) continue;
    const chain: string[] = [];
    for (let node: string | null | undefined = hit; node != null; node = from.get(node)) chain.unshift(node);
    chains.push(chain);
  }
  return chains;
}

describe('import structure', () => {
  it('finds a cycle when there is one (the checker works)', () => {
    const graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
    expect(cycles(graph)).toEqual([['c', 'b', 'a']]);
  });

  it('finds what a layer reaches, through other files (the checker works)', () => {
    const graph = new Map([['client/a', ['helper/b']], ['helper/b', ['server/c']], ['server/c', []], ['client/d', ['concept/e']], ['concept/e', []]]);
    expect(reachedFrom(graph, ['client/a', 'client/d'], (file) => file.startsWith('server/'))).toEqual([['client/a', 'helper/b', 'server/c']]);
  });

  it('no file under src/client reaches src/server, directly or through other files (type-only imports included)', () => {
    const graph = importGraph(sourceFiles(ROOT));
    const server = join(ROOT, 'server') + sep;
    const clientFiles = [...graph.keys()].filter((file) => file.startsWith(join(ROOT, 'client') + sep));
    expect(clientFiles.length).toBeGreaterThan(10);
    const found = reachedFrom(graph, clientFiles, (file) => file.startsWith(server)).map((chain) => chain.map((file) => relative(ROOT, file)));
    expect(found).toEqual([]);
  });

  it('src has no import cycle', () => {
    const found = cycles(importGraph(sourceFiles(ROOT))).map((component) => component.map((file) => relative(ROOT, file)).sort());
    expect(found).toEqual([]);
  });
});
