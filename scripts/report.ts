/**
 * A self-contained HTML report of the stored series. See docs/dashboards.md.
 */
import { runReport } from '../dashboards/report/cli.ts';
import { runMain } from '../src/cli.ts';

await runMain('report', (c) => runReport([...c.argv], c.env, { out: (l) => console.log(l), err: (l) => console.error(l) }));
