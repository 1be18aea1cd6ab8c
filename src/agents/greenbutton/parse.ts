/** One Green Button file, ESPI XML or utility CSV, into series: the format is sniffed from the content. */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { messageOf, SourceDataError } from '../../errors.ts';
import { parseCsvFile } from './csv.ts';
import { parseEspiFile } from './espi-xml.ts';
import type { ParsedFile } from './series.ts';

/** ESPI XML or CSV, by the first non-blank character (a `<`), not by the file's extension. */
async function sniff(file: string): Promise<'xml' | 'csv'> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
    const head = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart();
    return head.startsWith('<') ? 'xml' : 'csv';
  } finally {
    await handle.close();
  }
}

/** Parse one file into series; errors name the file. */
export async function parseGreenButtonFile(file: string, options: { timezone: string }): Promise<ParsedFile> {
  let kind: 'xml' | 'csv';
  try {
    kind = await sniff(file);
  } catch (error) {
    throw new SourceDataError(`${path.basename(file)}: cannot read: ${messageOf(error)}`);
  }
  return kind === 'xml' ? parseEspiFile(file) : parseCsvFile(file, options);
}
