/**
 * Replay: send the spool (what earlier runs could not write) or the whole file store to the
 * configured InfluxDB. Idempotent: a point sent twice overwrites itself.
 */
import { bucketMonths, convertLegacy, readBucketFile, storedBuckets } from './file-store.ts';
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
    await convertLegacy(dataDir, bucket);
    const summary = emptySummary();
    for (const month of await bucketMonths(dataDir, bucket)) {
      const [first] = monthRange(month);
      addSummary(summary, await sink.write(bucket, await readBucketFile(dataDir, bucket, { start: first, end: first + 1 })));
      if (summary.failure !== undefined) break;
    }
    onBucket?.(bucket, summary);
    addSummary(total, summary);
    if (summary.failure !== undefined) break;
  }
  return total;
}

// First second of a UTC month `YYYY-MM`.
function monthRange(month: string): [number] {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return [Date.UTC(y, m - 1, 1) / 1000];
}
