/**
 * Replay: send the spool (what earlier runs could not write) or the whole file store to the
 * configured InfluxDB. Idempotent: a point sent twice overwrites itself.
 */
import { readdir } from 'node:fs/promises';
import { readBucketFile } from './file-store.ts';
import { addSummary, emptySummary, type Sink, type WriteSummary } from './sink.ts';

/** Buckets present in a file store directory. */
export async function storeBuckets(dataDir: string): Promise<string[]> {
  try {
    return (await readdir(dataDir))
      .filter((name) => name.endsWith('.lp') && !name.startsWith('.'))
      .map((name) => name.slice(0, -3))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Send every bucket file of a file store through `sink`; `onBucket` reports progress. */
export async function replayStore(dataDir: string, sink: Sink, onBucket?: (bucket: string, summary: WriteSummary) => void): Promise<WriteSummary> {
  const total = emptySummary();
  for (const bucket of await storeBuckets(dataDir)) {
    const summary = await sink.write(bucket, await readBucketFile(dataDir, bucket));
    onBucket?.(bucket, summary);
    addSummary(total, summary);
    if (summary.failure !== undefined) break;
  }
  return total;
}
