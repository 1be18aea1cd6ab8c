/**
 * cheerio for the sign-ins that read HTML (AEP's form, the page-token families), loaded when one
 * of them runs: it costs ~150–200 ms to import, which a GWP run — most runs — would pay for nothing.
 */
import type { CheerioAPI } from 'cheerio';

/** Parse `html` with cheerio (imported on first use). */
export async function loadHtml(html: string): Promise<CheerioAPI> {
  const { load } = await import('cheerio');
  return load(html);
}
