/**
 * Shared pieces of the parser fuzz tests (test/hardening/fuzz-*.test.ts): mutations of real
 * payloads (JSON values and text), and the property every parser must keep — it returns
 * records that pass `validateRecord`, or throws one of the typed errors; never a TypeError,
 * RangeError, SyntaxError or other untyped exception.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { AuthError, ConfigError, SourceDataError, TransientError } from '../../src/errors.ts';
import { type DataRecord, RecordError, validateRecord } from '../../src/records.ts';

/** Read a fixture under test/fixtures/ (CI has no ../shared). */
export function fixture(...parts: string[]): string {
  return readFileSync(path.join(import.meta.dirname, '..', 'fixtures', ...parts), 'utf8');
}

/** Error classes of src/errors.ts and src/records.ts; agents' own classes are added per test. */
export const LIBRARY_ERRORS: readonly (abstract new (...args: never[]) => Error)[] = [SourceDataError, ConfigError, AuthError, TransientError, RecordError];

/** Rethrow `error` unless it is an instance of one of `allowed` (so fast-check reports it with its stack). */
export function expectTyped(error: unknown, allowed: readonly (abstract new (...args: never[]) => Error)[] = LIBRARY_ERRORS): void {
  if (allowed.some((cls) => error instanceof cls)) {
    // A typed error must still say something: an empty message helps no one reading the log.
    if ((error as Error).message.trim() === '') throw new Error(`typed error ${(error as Error).name} with an empty message`);
    return;
  }
  throw error;
}

/** Every record must pass the library's validation (throws the RecordError otherwise). */
export function expectValid(records: readonly DataRecord[], agent: string): void {
  for (const record of records) validateRecord(record, agent);
}

/** Values of the wrong type or out of range: what a broken or hostile source might send instead. */
export const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, '', 'NaN', 'Infinity', '-Infinity', '1e400', '-1e400', 'null', 'undefined', '0x1F', ' 12 ', '１２', '12,5', 'constructor', '__proto__', 'toString'),
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(0, -0, -1, -273.15, 1e308, -1e308, Number.MAX_VALUE, 1e303, -1e300, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER * 4, 2 ** 53 + 1, -(2 ** 31), 1.5, Number.NaN, Infinity, -Infinity),
  },
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 20, unit: 'binary' }),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.jsonValue({ maxDepth: 2 }),
);

type Node = { parent: unknown[] | Record<string, unknown>; key: string | number; depth: number };

function nodesOf(root: unknown): Node[] {
  const out: Node[] = [];
  const walk = (value: unknown, depth: number): void => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        out.push({ parent: value, key: i, depth });
        walk(item, depth + 1);
      });
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        out.push({ parent: value as Record<string, unknown>, key, depth });
        walk(item, depth + 1);
      }
    }
  };
  walk(root, 0);
  return out;
}

/** One mutation of a JSON value, chosen by fast-check; applied by {@link mutateJson}. */
export type JsonMutation = ({ op: 'delete'; at: number }
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'duplicate'; at: number }
  | { op: 'truncate-string'; at: number; cut: number }
  | { op: 'flip-offset'; at: number; to: string }
  | { op: 'insert-text'; at: number; text: string; pos: number }
  | { op: 'shuffle'; at: number; seed: number }) & {
  /** Pick among the envelope's keys (object keys at depth ≤ 1) rather than among all nodes, most of which are reads. */
  shallow?: boolean;
};

/** Strange text: unicode, control characters, quotes, backslashes, surrogates. */
export const strangeText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 8, unit: 'binary' }),
  fc.string({ maxLength: 8, unit: 'grapheme' }),
  fc.constantFrom('\u0000', '\u0001', '\n', '\r\n', '\t', '\\', '"', "'", '<', '>', '&', ']]>', '\uFEFF', '\uD800', '😀', 'é', ',', ';', '=', ' ', '-', '+', '.', 'e', 'E99999', '\u2028', '\u007f'),
);

/** Mutations of a JSON value: delete a key, replace a value, duplicate/drop/shuffle, truncate strings, flip UTC offsets, insert text. */
const jsonMutationOp: fc.Arbitrary<JsonMutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: weirdValue }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('truncate-string' as const), at: fc.nat(), cut: fc.nat() }),
  fc.record({ op: fc.constant('flip-offset' as const), at: fc.nat(), to: fc.constantFrom('Z', '+00:00', '-08:00', '+14:00', '-12:00', '+99:99', '', '+0530', '-07:00', '-08:00') }),
  fc.record({ op: fc.constant('insert-text' as const), at: fc.nat(), text: strangeText, pos: fc.nat() }),
  fc.record({ op: fc.constant('shuffle' as const), at: fc.nat(), seed: fc.nat() }),
);

/** A mutation anywhere, or (one time in three) on the envelope. */
export const jsonMutation: fc.Arbitrary<JsonMutation> = fc.tuple(jsonMutationOp, fc.integer({ min: 0, max: 2 })).map(([m, r]) => ({ ...m, shallow: r === 0 }));

const OFFSET = /(Z|[+-]\d{2}:?\d{2})$/;

/** Apply mutations to a deep copy of `value` (the original fixture stays intact). */
export function mutateJson(value: unknown, mutations: readonly JsonMutation[]): unknown {
  const root = { root: structuredClone(value) as unknown };
  for (const m of mutations) {
    const all = nodesOf(root);
    const shallow = all.filter((n) => n.depth <= 1 && !Array.isArray(n.parent));
    const nodes = m.shallow && shallow.length > 0 ? shallow : all;
    const node = nodes[m.at % nodes.length]!;
    const { parent, key } = node;
    const current = (parent as Record<string | number, unknown>)[key];
    const set = (v: unknown): void => {
      (parent as Record<string | number, unknown>)[key] = v;
    };
    switch (m.op) {
      case 'delete':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else if (parent !== root) delete parent[key as string];
        break;
      case 'replace':
        set(m.value);
        break;
      case 'duplicate':
        if (Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(current));
        else if (Array.isArray(current) && current.length > 0) current.push(structuredClone(current[m.at % current.length]));
        break;
      case 'truncate-string':
        if (typeof current === 'string') set(current.slice(0, m.cut % (current.length + 1)));
        break;
      case 'flip-offset':
        if (typeof current === 'string') set(OFFSET.test(current) ? current.replace(OFFSET, m.to) : `${current}${m.to}`);
        break;
      case 'insert-text':
        if (typeof current === 'string') {
          const pos = m.pos % (current.length + 1);
          set(current.slice(0, pos) + m.text + current.slice(pos));
        } else if (typeof current === 'number') set(`${current}${m.text}`);
        break;
      case 'shuffle':
        if (Array.isArray(current)) {
          // A deterministic shuffle from the seed, so a failure replays.
          let s = m.seed;
          for (let i = current.length - 1; i > 0; i--) {
            s = (s * 1103515245 + 12345) >>> 0;
            const j = s % (i + 1);
            [current[i], current[j]] = [current[j], current[i]];
          }
        }
        break;
    }
  }
  return root.root;
}

/** A real JSON payload with 1–4 mutations applied. */
export function mutatedJson(payloads: readonly unknown[]): fc.Arbitrary<unknown> {
  return fc.tuple(fc.constantFrom(...payloads), fc.array(jsonMutation, { minLength: 1, maxLength: 4 })).map(([payload, mutations]) => mutateJson(payload, mutations));
}

/** One mutation of a text payload (XML, CSV, NUT replies, HTML). */
export type TextMutation =
  | { op: 'truncate'; at: number }
  | { op: 'delete'; at: number; length: number }
  | { op: 'duplicate'; at: number; length: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'replace-number'; at: number; with: string }
  | { op: 'flip-sign'; at: number }
  | { op: 'swap-lines'; at: number; other: number };

/** Mutations of text: truncate, delete/duplicate a slice, insert strange text, replace a number, flip a sign, swap lines. */
export const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: strangeText }),
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('replace-number' as const),
      at: fc.nat(),
      with: fc.oneof(fc.constantFrom('', '-1', '0', '1e400', '9'.repeat(400), '-9999999999999999999999', '1e303', '1.7e308', 'NaN', 'abc', '1.5', '+7', '99', '-0', '  ', 'constructor', '__proto__', '400', '-400'), fc.integer().map(String)),
    }),
  },
  fc.record({ op: fc.constant('flip-sign' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swap-lines' as const), at: fc.nat(), other: fc.nat() }),
);

/** Apply text mutations in order. */
export function mutateText(text: string, mutations: readonly TextMutation[]): string {
  let out = text;
  for (const m of mutations) {
    const at = m.at % (out.length + 1);
    switch (m.op) {
      case 'truncate':
        out = out.slice(0, at);
        break;
      case 'delete':
        out = out.slice(0, at) + out.slice(at + m.length);
        break;
      case 'duplicate':
        out = out.slice(0, at + m.length) + out.slice(at, at + m.length) + out.slice(at + m.length);
        break;
      case 'insert':
        out = out.slice(0, at) + m.text + out.slice(at);
        break;
      case 'replace-number': {
        // The n-th run of digits (n picked by `at`), so values, times and codes all get hit.
        const runs = [...out.matchAll(/\d+(\.\d+)?/g)];
        if (runs.length === 0) break;
        const run = runs[m.at % runs.length]!;
        out = out.slice(0, run.index) + m.with + out.slice(run.index + run[0].length);
        break;
      }
      case 'flip-sign': {
        const signs = [...out.matchAll(/[+-]/g)];
        if (signs.length === 0) break;
        const s = signs[m.at % signs.length]!;
        out = out.slice(0, s.index) + (s[0] === '+' ? '-' : '+') + out.slice(s.index + 1);
        break;
      }
      case 'swap-lines': {
        const lines = out.split('\n');
        const i = m.at % lines.length;
        const j = m.other % lines.length;
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        out = lines.join('\n');
        break;
      }
    }
  }
  return out;
}

/** A real text payload with 1–4 mutations applied. */
export function mutatedText(payloads: readonly string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...payloads), fc.array(textMutation, { minLength: 1, maxLength: 4 })).map(([payload, mutations]) => mutateText(payload, mutations));
}

/** Runs per property: enough to hit every mutation on every fixture, small enough for a CI run. */
export const RUNS = Number(process.env.HOMEFLUX_FUZZ_RUNS ?? 300);
