/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per area
 * (this project's src/, each node_modules package, Node internals, GC, idle). Usable alone:
 *   node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileLine {
  name: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  totalMs: number;
  functions: ProfileLine[];
  areas: ProfileLine[];
}

function area(url: string, name: string): string {
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return name;
  if (!url) return '(native/V8)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `node_modules/${nm[1]}`;
  const src = /\/(src|bench|test)\/(.*)$/.exec(url);
  if (src) return `${src[1]}/${src[2]!.split('/')[0]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

function short(url: string): string {
  const nm = /node_modules\/(.*)$/.exec(url);
  if (nm) return nm[1]!;
  const src = /\/((?:src|bench|test)\/.*)$/.exec(url);
  return src ? src[1]! : url;
}

export function summarise(path: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const key = url ? `${name} ${short(url)}:${lineNumber + 1}` : name;
    functions.set(key, (functions.get(key) ?? 0) + us);
    const a = area(url, name);
    areas.set(a, (areas.get(a) ?? 0) + us);
    total += us;
  }
  const lines = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((x, y) => y[1] - x[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, percent: (100 * us) / total }));
  return { totalMs: total / 1000, functions: lines(functions, top), areas: lines(areas, 20) };
}

export function formatSummary(title: string, s: ProfileSummary): string {
  const out = [`### ${title} (${(s.totalMs / 1000).toFixed(1)} s sampled)`, '', 'Self time by area:', ''];
  for (const l of s.areas) out.push(`  ${l.percent.toFixed(1).padStart(5)} %  ${l.name}`);
  out.push('', 'Top functions by self time:', '');
  for (const l of s.functions) out.push(`  ${l.percent.toFixed(1).padStart(5)} %  ${l.name}`);
  return out.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(formatSummary(file, summarise(file, Number(process.argv[3] ?? 25))));
}
