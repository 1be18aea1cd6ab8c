/**
 * Utility meter reads, cost, bills and weather from an Opower portal. See src/agents/opower/README.md.
 * `--login`: sign in once at a terminal (one-time code by e-mail or text) and keep the session.
 */
import { opower } from '../src/agents/opower/index.ts';
import { loginCommand } from '../src/run/opower-login.ts';
import { runMain } from '../src/cli.ts';
import { runAgent } from '../src/run/pipeline.ts';

await runMain('opower', (c) => (c.argv.includes('--login') ? loginCommand(c) : runAgent(opower, c)));
