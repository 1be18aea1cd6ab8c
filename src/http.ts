/**
 * Reading HTTP bodies from sources with a size limit: a portal or device that answers a
 * 200 MB page or an endless stream is refused past the limit, not buffered until memory runs out.
 */
import { SourceDataError } from './errors.ts';

/** Default largest body a source may send: far above any real payload (a year of hourly JSON is ~2 MB). */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** The body as text, refused with a {@link SourceDataError} naming `source` past `maxBytes`. */
export async function readText(response: Response, options: { source: string; maxBytes?: number }): Promise<string> {
  const max = options.maxBytes ?? MAX_BODY_BYTES;
  const declared = Number(response.headers.get('content-length'));
  const refuse = (): never => {
    throw new SourceDataError(`${options.source}: the response is larger than ${Math.round(max / 2 ** 20)} MiB; refused`);
  };
  if (Number.isFinite(declared) && declared > max) {
    await response.body?.cancel().catch(() => {});
    refuse();
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let size = 0;
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      refuse();
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}
