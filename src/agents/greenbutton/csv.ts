/**
 * Utility "Green Button" CSV exports (PG&E and the many utilities with the same layout) →
 * {@link Series}, read line by line.
 *
 * Layout: free preamble lines (name, address, account), then a header
 * `TYPE,DATE,START TIME,END TIME,USAGE,UNITS,COST,NOTES` or a variant (`USAGE (kWh)` without
 * UNITS, `IMPORT (kWh)`/`EXPORT (kWh)` for solar homes), then one row per interval. Dates are
 * `YYYY-MM-DD` or `M/D/YYYY`; times are local wall-clock times without an offset, so the
 * repeated fall-back hour is told apart by order: a row that would not be later than the
 * previous row of its series is the second, later 01:00.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { DateTime } from 'luxon';
import { SourceDataError } from '../../errors.ts';
import type { ParsedFile, Quantity, Series } from './series.ts';

/** Split one CSV line (RFC 4180 quoting; a quoted field cannot span lines in these exports). */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells.map((c) => c.trim());
}

interface Column {
  index: number;
  quantity?: Quantity;
  /** Unit named in the header, e.g. `kWh` from `USAGE (kWh)`. */
  unit?: string;
}

interface Layout {
  type?: number;
  date: number;
  start: number;
  end?: number;
  units?: number;
  cost?: number;
  amounts: Column[];
}

function layoutOf(header: string[]): Layout | undefined {
  const upper = header.map((h) => h.toUpperCase());
  const at = (name: string): number | undefined => {
    const i = upper.indexOf(name);
    return i < 0 ? undefined : i;
  };
  const date = at('DATE');
  const start = at('START TIME');
  if (date === undefined || start === undefined) return undefined;
  const amounts: Column[] = [];
  upper.forEach((h, index) => {
    const m = /^(USAGE|IMPORT|EXPORT|CONSUMPTION)\s*(?:\((.+)\))?$/.exec(h);
    if (!m) return;
    amounts.push({ index, quantity: m[1] === 'EXPORT' ? 'power_export' : undefined, unit: m[2] ? header[index]!.replace(/^.*\((.+)\)\s*$/, '$1') : undefined });
  });
  if (amounts.length === 0) return undefined;
  return { type: at('TYPE'), date, start, end: at('END TIME'), units: at('UNITS'), cost: at('COST'), amounts };
}

const UNIT: { [unit: string]: { kind: 'power' | 'gas' | 'water'; unit: string; factor: number } } = {
  KWH: { kind: 'power', unit: 'Wh', factor: 1000 },
  WH: { kind: 'power', unit: 'Wh', factor: 1 },
  MWH: { kind: 'power', unit: 'Wh', factor: 1_000_000 },
  THERM: { kind: 'gas', unit: 'THERM', factor: 1 },
  THERMS: { kind: 'gas', unit: 'THERM', factor: 1 },
  CCF: { kind: 'gas', unit: 'CCF', factor: 1 },
  GAL: { kind: 'water', unit: 'GAL', factor: 1 },
  GALLONS: { kind: 'water', unit: 'GAL', factor: 1 },
};

function parseDate(text: string): { year: number; month: number; day: number } | undefined {
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text);
  if (m) return { year: +m[1]!, month: +m[2]!, day: +m[3]! };
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
  if (m) return { year: +m[3]!, month: +m[1]!, day: +m[2]! };
  return undefined;
}

function parseClock(text: string): { hour: number; minute: number } | undefined {
  const m = /^(\d{1,2}):(\d{2})(?::\d{2})?\s*([AP]M)?$/i.exec(text);
  if (!m) return undefined;
  let hour = +m[1]!;
  const ampm = m[3]?.toUpperCase();
  if (ampm) hour = (hour % 12) + (ampm === 'PM' ? 12 : 0);
  if (hour > 23 || +m[2]! > 59) return undefined;
  return { hour, minute: +m[2]! };
}

/** `$1,234.56`, `-$0.05`, `($0.05)`, `` (none) → number or undefined; NaN when unreadable. */
function parseMoney(text: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const negative = /^\(.*\)$/.test(t) || t.startsWith('-');
  const digits = t.replace(/[()$,\s-]/g, '');
  if (!/^\d+(\.\d+)?$/.test(digits)) return Number.NaN;
  return negative ? -Number(digits) : Number(digits);
}

/** Every instant showing the wall time of `local` in `zone`, earliest first (two in the fall-back hour). */
function instants(local: DateTime, zone: string): number[] {
  const t = Math.floor(local.toSeconds());
  const wall = local.toFormat('yyyy-MM-dd HH:mm');
  return [t - 3600, t, t + 3600].filter((c) => DateTime.fromSeconds(c, { zone }).toFormat('yyyy-MM-dd HH:mm') === wall);
}

/** Parse one utility CSV export; throws {@link SourceDataError} naming the file and line. */
export async function parseCsvFile(file: string, options: { timezone: string }): Promise<ParsedFile> {
  const name = path.basename(file);
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  const bySeries = new Map<string, Series & { last: number }>();
  let layout: Layout | undefined;
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.trim() === '') continue;
    const cells = splitCsvLine(line);
    if (!layout) {
      layout = layoutOf(cells);
      continue;
    }
    const fail = (message: string): never => {
      throw new SourceDataError(`${name}: line ${lineNo}: ${message}`, line.slice(0, 120));
    };
    const cell = (i: number | undefined): string => (i === undefined ? '' : (cells[i] ?? ''));
    const date = parseDate(cell(layout.date));
    if (!date) fail(`DATE should be YYYY-MM-DD or M/D/YYYY, found ${JSON.stringify(cell(layout.date))}`);
    const startClock = parseClock(cell(layout.start));
    if (!startClock) fail(`START TIME should be HH:MM, found ${JSON.stringify(cell(layout.start))}`);
    const endClock = layout.end !== undefined ? parseClock(cell(layout.end)) : undefined;
    if (layout.end !== undefined && !endClock) fail(`END TIME should be HH:MM, found ${JSON.stringify(cell(layout.end))}`);
    const local = DateTime.fromObject({ ...date!, ...startClock! }, { zone: options.timezone });
    if (!local.isValid || local.hour !== startClock!.hour || local.minute !== startClock!.minute) {
      fail(`${cell(layout.date)} ${cell(layout.start)} does not exist in ${options.timezone} (skipped by the spring-forward change)`);
    }
    // Wall-clock length: "00:00–00:59" and "00:00–01:00" are both an hour; "00:00–23:59" is the whole local day.
    const startMin = startClock!.hour * 60 + startClock!.minute;
    let endMin = endClock ? endClock.hour * 60 + endClock.minute : startMin + 59;
    if (endMin % 5 === 4) endMin += 1;
    if (endMin <= startMin) endMin += 1440;
    const wholeDay = startMin === 0 && endMin === 1440;
    const rowCost = parseMoney(cell(layout.cost));
    // Not finite: 400 digits read as Infinity (found by fuzzing).
    if (rowCost !== undefined && !Number.isFinite(rowCost)) fail(`COST should be an amount like $1.23, found ${JSON.stringify(cell(layout.cost))}`);
    layout.amounts.forEach((column, n) => {
      const text = cell(column.index).replace(/,/g, '');
      if (text === '') return;
      const amount = Number(text);
      if (!Number.isFinite(amount)) fail(`${column.unit ? `usage (${column.unit})` : 'USAGE'} should be a number, found ${JSON.stringify(cell(column.index))}`);
      const unitName = (column.unit ?? cell(layout!.units)).toUpperCase();
      const unit = UNIT[unitName];
      if (!unit) fail(`unknown unit ${JSON.stringify(unitName)}; expected kWh, therms, CCF or gallons`);
      const water = /water/i.test(cell(layout!.type));
      const quantity: Quantity = column.quantity ?? (unit!.kind === 'power' ? 'power_usage' : water ? 'water' : unit!.kind);
      const key = `${quantity} ${unit!.unit}`;
      let series = bySeries.get(key);
      if (!series) bySeries.set(key, (series = { quantity, unit: unit!.unit, currency: 'USD', readings: [], last: -Infinity }));
      // The repeated fall-back hour: a wall time that maps to two instants takes the earliest
      // one after the previous row of the series, so the second 01:00 is the later instant.
      const start = instants(local, options.timezone).find((t) => t > series!.last);
      if (start === undefined) fail(`${cell(layout!.date)} ${cell(layout!.start)} is not after the previous ${quantity} row; rows must be in time order`);
      const duration = wholeDay ? Math.floor(local.plus({ days: 1 }).startOf('day').toSeconds()) - start! : (endMin - startMin) * 60;
      // A finite amount can still overflow in Wh (1e303 kWh): refuse it rather than write Infinity (found by fuzzing).
      const value = Math.round(amount * unit!.factor * 1e6) / 1e6;
      if (!Number.isFinite(value)) fail(`${column.unit ? `usage (${column.unit})` : 'USAGE'} is out of range: ${JSON.stringify(cell(column.index).slice(0, 40))}`);
      series.last = start!;
      // The row's one COST belongs to its first amount column (import, not export).
      series.readings.push({ start: start!, duration, value, ...(rowCost !== undefined && n === 0 ? { cost: rowCost } : {}) });
    });
  }
  if (!layout) throw new SourceDataError(`${name}: no header line found; expected a line starting TYPE,DATE,START TIME,… (or DATE,START TIME with a USAGE/IMPORT column) after ${lineNo} lines`);
  const series = [...bySeries.values()].map(({ last: _last, ...s }) => s);
  return { series, notes: series.length === 0 ? [`${name}: no usage rows after the header`] : [] };
}
