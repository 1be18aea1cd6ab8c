/**
 * The hourly workflow's data branch (HOMEFLUX_STORE_BRANCH): `pull` checks it out into store/
 * before collecting, `push` commits what changed and pushes. See src/actions/store-branch.ts.
 */
import { runMain } from '../src/cli.ts';
import { runStoreBranch } from '../src/actions/command.ts';

await runMain('store-branch', (c) => runStoreBranch(c));
