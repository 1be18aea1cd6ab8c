/**
 * Every agent's README (src/agents/<agent>/README.md) has the same sections in the same order;
 * its configuration table names exactly the environment variables the agent's code reads —
 * found here by scanning the agent's source files for its variable names, independently of how
 * each agent declares them —; and every line of its example output is line protocol homeflux
 * can read back, from that agent.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentNames } from '../src/agents/registry.ts';
import { decodePoint, splitLine } from '../src/lineprotocol.ts';

const ROOT = join(import.meta.dirname, '..');
/** The sections every agent doc has, in this order (others may stand between them). */
const SECTIONS = ['What it reads', 'Configuration', 'Measurements written', 'Example output', 'Running', 'Limits and quirks'];
/** Variable prefixes per agent (the original daemon's `GWP_*` names are the opower aliases). */
const PREFIXES: Readonly<Record<string, readonly string[]>> = { demo: ['DEMO_'], opower: ['OPOWER_', 'GWP_'], weather: ['WEATHER_'], nut: ['NUT_'], greenbutton: ['GREENBUTTON_'], scrape: ['SCRAPE_'], cost: ['COST_'], insight: ['INSIGHT_'], mqtt: ['MQTT_'], station: ['STATION_'] };
/** The `source` of an agent's records, where it names the provider rather than the agent. */
const SOURCE: Readonly<Record<string, RegExp>> = { weather: /^homeflux\.open_meteo$/, cost: /^homeflux\.tariff$/, insight: /^homeflux\.insight$/ };
const DOCUMENTED = agentNames();

async function sources(agent: string): Promise<string> {
  const dir = join(ROOT, 'src/agents');
  const files = (await readdir(join(dir, agent))).filter((f) => f.endsWith('.ts')).map((f) => `${agent}/${f}`);
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
    const withReadme: string[] = [];
    for (const agent of agentNames()) if ((await readdir(join(ROOT, 'src/agents', agent))).includes('README.md')) withReadme.push(agent);
    expect(withReadme).toEqual(DOCUMENTED);
  });

  it.each(DOCUMENTED)('%s: the same sections, in order', async (agent) => {
    const doc = await readFile(join(ROOT, 'src/agents', agent, 'README.md'), 'utf8');
    const headings = [...doc.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
    expect(headings.filter((h) => SECTIONS.includes(h))).toEqual(SECTIONS);
  });

  it.each(DOCUMENTED)('%s: the configuration table names exactly the variables the code reads', async (agent) => {
    const prefixes = PREFIXES[agent]!;
    const doc = await readFile(join(ROOT, 'src/agents', agent, 'README.md'), 'utf8');
    const code = readByCode(await sources(agent), prefixes);
    expect(code.size, 'the scan found the agent’s variables').toBeGreaterThan(0);
    expect([...documented(doc, prefixes)].sort()).toEqual([...code].sort());
  });

  it.each(DOCUMENTED)('%s: the example output is line protocol of this agent', async (agent) => {
    const doc = await readFile(join(ROOT, 'src/agents', agent, 'README.md'), 'utf8');
    const example = doc.split(/^## /m).find((s) => s.startsWith('Example output')) ?? '';
    // Lines as the file store holds them, or as a dry run prints them (`home-hour: <line>`).
    const lines = [...example.matchAll(/```[a-z]*\n([\s\S]*?)```/g)]
      .flatMap((m) => m[1]!.split('\n'))
      .map((l) => l.replace(/^[a-z0-9_-]+: /, ''))
      .filter((l) => /^[a-z_]+,\S*source=homeflux\./.test(l));
    expect(lines.length, 'example line protocol in the section').toBeGreaterThan(0);
    for (const line of lines) {
      const point = decodePoint(line, `${agent} README`);
      expect(point.tags.source, line).toMatch(SOURCE[agent] ?? new RegExp(`^homeflux\\.${agent}(\\.|$)`));
      expect(point.tags.data_source, line).toBe('homeflux');
      expect(Number.isSafeInteger(point.time) && point.time > 1e9, line).toBe(true);
      expect(splitLine(line)?.fields.length, line).toBeGreaterThan(0);
    }
  });
});
