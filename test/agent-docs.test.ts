/**
 * Every agent's docs (docs/agents/<agent>.md) have the same sections in the same order, and
 * their configuration tables name exactly the environment variables the agent's code reads —
 * found here by scanning the agent's source files for its variable names, independently of how
 * each agent declares them.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentNames } from '../src/agents/registry.ts';

const ROOT = join(import.meta.dirname, '..');
/** The sections every agent doc has, in this order (others may stand between them). */
const SECTIONS = ['What it reads', 'Configuration', 'Measurements written', 'Example output', 'Running', 'Limits and quirks'];
/** Variable prefixes per agent (the original daemon's `GWP_*` names are the opower aliases). */
const PREFIXES: Readonly<Record<string, readonly string[]>> = { opower: ['OPOWER_', 'GWP_'], weather: ['WEATHER_'], nut: ['NUT_'], greenbutton: ['GREENBUTTON_'], scrape: ['SCRAPE_'] };
// The demo agent is documented in the README (it has no account and two variables).
const DOCUMENTED = agentNames().filter((n) => n !== 'demo');

async function sources(agent: string): Promise<string> {
  const dir = join(ROOT, 'src/agents');
  const files = [`${agent}.ts`, ...(await readdir(join(dir, agent)).catch(() => [] as string[])).filter((f) => f.endsWith('.ts')).map((f) => `${agent}/${f}`)];
  const texts = await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8').catch(() => '')));
  return texts.join('\n');
}

/** Variables named in string literals of the code (`'NUT_HOSTS'`), with the agent's prefixes. */
function readByCode(code: string, prefixes: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const m of code.matchAll(/['"`]([A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9])['"`]/g)) if (prefixes.some((p) => m[1]!.startsWith(p))) names.add(m[1]!);
  return names;
}

/** Variables in the first column of the doc's configuration table(s). */
function documented(doc: string, prefixes: readonly string[]): Set<string> {
  const section = doc.split(/^## /m).find((s) => s.startsWith('Configuration')) ?? '';
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('|')) continue;
    const first = line.split('|')[1] ?? '';
    for (const m of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) if (prefixes.some((p) => m[1]!.startsWith(p))) names.add(m[1]!);
  }
  return names;
}

describe('agent docs', () => {
  it('there is one for every agent the registry knows', async () => {
    const docs = (await readdir(join(ROOT, 'docs/agents'))).filter((f) => f.endsWith('.md')).map((f) => f.slice(0, -3)).sort();
    expect(docs).toEqual(DOCUMENTED);
  });

  it.each(DOCUMENTED)('%s: the same sections, in order', async (agent) => {
    const doc = await readFile(join(ROOT, 'docs/agents', `${agent}.md`), 'utf8');
    const headings = [...doc.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
    expect(headings.filter((h) => SECTIONS.includes(h))).toEqual(SECTIONS);
  });

  it.each(DOCUMENTED)('%s: the configuration table names exactly the variables the code reads', async (agent) => {
    const prefixes = PREFIXES[agent]!;
    const doc = await readFile(join(ROOT, 'docs/agents', `${agent}.md`), 'utf8');
    const code = readByCode(await sources(agent), prefixes);
    expect(code.size, 'the scan found the agent’s variables').toBeGreaterThan(0);
    expect([...documented(doc, prefixes)].sort()).toEqual([...code].sort());
  });
});
