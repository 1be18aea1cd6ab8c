/**
 * `scripts/station.ts` is always a receiver: `--listen HOST:PORT` is `STATION_LISTEN`, and the
 * generic `--watch` loop (src/run/watch.ts) is implied — a receiver that wrote once and
 * exited would drop every upload after it.
 */
import type { Env } from '../../config.ts';

/** The argv and environment to run the station agent with. */
export function receiverArguments(argv: readonly string[], env: Env): { argv: string[]; env: Env } {
  const out: string[] = [];
  let listen: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--listen') listen = argv[++i] ?? '';
    else if (arg.startsWith('--listen=')) listen = arg.slice('--listen='.length);
    else out.push(arg);
  }
  const help = out.includes('--help') || out.includes('-h');
  if (!help && !out.includes('--watch')) out.unshift('--watch');
  return { argv: out, env: listen === undefined ? env : { ...env, STATION_LISTEN: listen } };
}
