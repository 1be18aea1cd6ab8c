/**
 * Agent names → agent modules, loaded on demand so that a script naming one agent (backfill)
 * pays only for that agent's imports.
 *
 * Modules are found by path rather than by a static `import()` per agent, so the registry
 * does not depend on every agent being present, and each script pays only for its own agent.
 */
import { existsSync, readdirSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.ts';
import type { AgentModule } from './agent.ts';

// An agent is a folder of src/agents/ holding an index.ts (its module) — the registry is
// derived from the folders, so adding an agent is adding its folder.
const AGENTS_DIR = fileURLToPath(new URL('.', import.meta.url));

/** Known agents and their module files (relative to src/agents/): `<name>/index.ts`. */
export const AGENT_FILES: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  readdirSync(AGENTS_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(AGENTS_DIR, e.name, 'index.ts')))
    .map((e) => [e.name, [`${e.name}/index.ts`]] as const)
    .sort(([a], [b]) => (a < b ? -1 : 1)),
);

/** Names of the known agents, sorted. */
export function agentNames(): string[] {
  return Object.keys(AGENT_FILES).sort();
}

function isAgentModule(value: unknown, name: string): value is AgentModule {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<AgentModule>;
  return candidate.name === name && typeof candidate.create === 'function' && typeof candidate.fromEnv === 'function' && typeof candidate.limits === 'function';
}

/** The module file of an agent in this checkout (relative to src/agents/), if there is one. */
export async function agentFile(name: string): Promise<string | undefined> {
  const files = Object.hasOwn(AGENT_FILES, name) ? AGENT_FILES[name]! : [];
  for (const file of files) {
    try {
      await access(fileURLToPath(new URL(`./${file}`, import.meta.url)));
      return file;
    } catch {
      /* try the next candidate */
    }
  }
  return undefined;
}

/**
 * Load an agent module by name. Throws {@link ConfigError} for an unknown name or a module
 * that does not export an {@link AgentModule} with that name.
 */
export async function loadAgent(name: string): Promise<AgentModule> {
  if (!Object.hasOwn(AGENT_FILES, name)) throw new ConfigError(`unknown agent "${name}": expected one of ${agentNames().join(', ')}`, 'agent');
  const file = await agentFile(name);
  if (file === undefined) throw new ConfigError(`agent "${name}" is not in this checkout (none of ${AGENT_FILES[name]!.map((f) => `src/agents/${f}`).join(', ')} exists)`, 'agent');
  const exports = (await import(new URL(`./${file}`, import.meta.url).href)) as Record<string, unknown>;
  const found = Object.values(exports).find((value) => isAgentModule(value, name));
  if (!found) throw new ConfigError(`src/agents/${file} exports no agent module named "${name}" (expected an object with name, fromEnv, create and limits)`, 'agent');
  return found;
}
