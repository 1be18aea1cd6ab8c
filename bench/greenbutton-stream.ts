/**
 * Bench: a generated multi-year hourly ESPI XML file (default 5 years ≈ 43,800 readings with
 * cost) imported into the file store; prints file size, parse time, total time and peak RSS.
 * `npx tsx bench/greenbutton-stream.ts [years]`; `run()` for bench/run.ts.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { greenbuttonModule } from '../src/agents/greenbutton/index.ts';
import { parseEspiFile } from '../src/agents/greenbutton/espi-xml.ts';
import { fileURLToPath } from 'node:url';
import { runAgent } from '../src/run/pipeline.ts';
import { type BenchRow, printRows } from './table.ts';

const B = 'https://utility.example/espi/1_1/resource';

async function generate(file: string, years: number): Promise<number> {
  const out = createWriteStream(file);
  const write = async (s: string): Promise<void> => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write(`<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n`);
  await write(`<entry><link rel="self" href="${B}/UsagePoint/1/MeterReading/1"/><link rel="related" href="${B}/UsagePoint/1/MeterReading/1/IntervalBlock"/><link rel="related" href="${B}/ReadingType/1"/><content><MeterReading xmlns="http://naesb.org/espi"/></content></entry>\n`);
  await write(`<entry><link rel="self" href="${B}/ReadingType/1"/><content><ReadingType xmlns="http://naesb.org/espi"><accumulationBehaviour>4</accumulationBehaviour><commodity>1</commodity><currency>840</currency><flowDirection>1</flowDirection><intervalLength>3600</intervalLength><kind>12</kind><powerOfTenMultiplier>0</powerOfTenMultiplier><uom>72</uom></ReadingType></content></entry>\n`);
  const start = 1_577_865_600; // 2020-01-01T08:00Z
  const hours = Math.round(years * 365.25 * 24);
  // One IntervalBlock per day, as utilities export them.
  for (let day = 0; day * 24 < hours; day++) {
    let block = `<entry><link rel="self" href="${B}/UsagePoint/1/MeterReading/1/IntervalBlock/${day}"/><link rel="up" href="${B}/UsagePoint/1/MeterReading/1/IntervalBlock"/><content><IntervalBlock xmlns="http://naesb.org/espi"><interval><duration>86400</duration><start>${start + day * 86400}</start></interval>`;
    for (let h = 0; h < 24 && day * 24 + h < hours; h++) {
      const t = start + (day * 24 + h) * 3600;
      const value = 300 + ((t / 3600) % 17) * 40;
      block += `<IntervalReading><cost>${value * 30}</cost><timePeriod><duration>3600</duration><start>${t}</start></timePeriod><value>${value}</value></IntervalReading>`;
    }
    await write(`${block}</IntervalBlock></content></entry>\n`);
  }
  await write('</feed>\n');
  out.end();
  await once(out, 'finish');
  return hours;
}

/** Generate a `years`-long hourly file and import it; returns the table rows. */
export async function run(years = 5): Promise<BenchRow[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'homeflux-gb-bench-'));
  const file = path.join(dir, 'multi-year.xml');
  try {
    const readings = await generate(file, years);
    const size = (await stat(file)).size;
    const rssBefore = process.memoryUsage().rss;
    let t = performance.now();
    const parsed = await parseEspiFile(file);
    const parseMs = performance.now() - t;
    const parsedRss = process.resourceUsage().maxRSS * 1024;
    t = performance.now();
    const code = await runAgent(greenbuttonModule([file]), {
      argv: [file],
      env: { HOMEFLUX_DATA_DIR: path.join(dir, 'data'), HOMEFLUX_SPOOL_DIR: path.join(dir, 'spool'), HOMEFLUX_TIMEZONE: 'America/Los_Angeles' },
      streams: { out: () => {}, err: (l) => console.error(l) },
      extra: { positionals: '<file…>' },
    });
    const runMs = performance.now() - t;
    const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(0)} MiB`;
    return [
      {
        name: `greenbutton: parse ${years}-year hourly ESPI file`,
        value: `${(size / 2 ** 20).toFixed(1)} MiB, ${parsed.series[0]?.readings.length ?? 0} of ${readings} readings in ${parseMs.toFixed(0)} ms; peak RSS ${mb(parsedRss)} (before ${mb(rssBefore)})`,
      },
      { name: `greenbutton: full import into the file store`, value: `${runMs.toFixed(0)} ms, exit ${code}; peak RSS ${mb(process.resourceUsage().maxRSS * 1024)}` },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) printRows(await run(Number(process.argv[2] ?? 5)));
