/**
 * Replay: send the spool (what earlier runs could not write) or the whole file store to the
 * configured InfluxDB. Idempotent: a point sent twice overwrites itself.
 */
import { partitionsOf, storedBuckets } from './file-store.ts';
import { addSummary, emptySummary, type Sink, type WriteSummary } from './sink.ts';

/** Buckets present in a file store directory (either layout). */
export const storeBuckets = storedBuckets;

/**
 * Send every bucket of a file store through `sink`, one month partition at a time (memory
 * follows a month, not the store); `onBucket` reports each bucket's total.
 */
export async function replayStore(dataDir: string, sink: Sink, onBucket?: (bucket: string, summary: WriteSummary) => void): Promise<WriteSummary> {
  const total = emptySummary();
  for (const bucket of await storeBuckets(dataDir)) {
    const summary = emptySummary();
    for (const partition of await partitionsOf(dataDir, bucket)) {
      addSummary(summary, await sink.write(bucket, await partition.lines()));
      if (summary.failure !== undefined) break;
    }
    onBucket?.(bucket, summary);
    addSummary(total, summary);
    if (summary.failure !== undefined) break;
  }
  return total;
}
