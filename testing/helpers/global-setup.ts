/**
 * vitest globalSetup: one InfluxDB 1.x and one VictoriaMetrics for the whole run (starting
 * them per file would cost seconds each). Tests read their URLs with `inject('influxV1Url')`
 * and `inject('vmUrl')` and wrap them with `influxV1Client` / `vmClient` from `servers.ts`.
 *
 * They are shared, so each test file keeps its data apart: its own database on InfluxDB 1.x,
 * and its own measurement names or tags on VictoriaMetrics (whose `/api/v2/write` ignores
 * the bucket). NUT is started per test file with `startNut()`, since each needs other dumps.
 */
import type { TestProject } from 'vitest/node';
import { startInfluxV1, startVictoriaMetrics, type InfluxV1Server, type VmServer } from './servers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the shared InfluxDB 1.x (no auth). */
    influxV1Url: string;
    /** Base URL of the shared VictoriaMetrics (no dedup: duplicate writes stay visible). */
    vmUrl: string;
  }
}

/** Start the shared servers, provide their URLs, and return the teardown that stops them. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = await Promise.allSettled([startInfluxV1(), startVictoriaMetrics()]);
  const [influx, vm] = started;
  if (influx.status === 'rejected' || vm.status === 'rejected') {
    // Don't leave the one that did start running.
    await Promise.all(started.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)));
    const reasons = started.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
    throw new Error(`global setup could not start the test servers:\n${reasons.join('\n')}`);
  }
  const servers: [InfluxV1Server, VmServer] = [influx.value, vm.value];
  project.provide('influxV1Url', servers[0].url);
  project.provide('vmUrl', servers[1].url);
  return async () => {
    await Promise.all(servers.map((server) => server.stop()));
  };
}
