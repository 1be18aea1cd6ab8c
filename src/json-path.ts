/**
 * A dotted path with `[n]` indexes through parsed JSON (`ENERGY.Power[0]`, `meters[0].power`):
 * how the scraper's configs and the mqtt agent's mapping file name a value in a payload.
 */

/** Follow `a.b[0].c` through parsed JSON; undefined when a step is missing. */
export function jsonPath(data: unknown, path: string): unknown {
  let current: unknown = data;
  for (const step of path.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    if (current === null || current === undefined) return undefined;
    const key = step.startsWith('[') ? Number(step.slice(1, -1)) : step;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}
