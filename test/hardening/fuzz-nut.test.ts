/**
 * Fuzz: NUT replies (src/agents/nut/client.ts) and the watts rules (power.ts). A tiny upsd
 * stand-in on 127.0.0.1 answers the client's commands with mutated real replies (built from
 * the dumps in test/fixtures/nut/); the client must give a typed NUT error or variables that
 * make a valid `ups` record — never a RangeError, never a hang.
 */
import { readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NutClient, quoteArgument, splitWords } from '../../src/agents/nut/client.ts';
import { NutAuthError, NutError, NutTransientError } from '../../src/agents/nut/errors.ts';
import { checkedReading, SampleError } from '../../src/agents/nut/sample.ts';
import { type DataRecord, powerRecord, upsRecord } from '../../src/records.ts';
import { expectTyped, expectValid, fixture, LIBRARY_ERRORS, mutatedText, RUNS, weirdValue } from './fuzz-helpers.ts';

const NUT_ERRORS = [...LIBRARY_ERRORS, NutError, NutAuthError, NutTransientError, SampleError];
const UPS = 'ups';

/** A `.dev` dump (`name: value` lines) as upsd's reply to `LIST VAR ups`. */
function listVarReply(dump: string): string {
  const lines = dump
    .split('\n')
    .map((l) => /^([^:\s]+):\s?(.*)$/.exec(l.trimEnd()))
    .filter((m) => m !== null)
    .map((m) => `VAR ${UPS} ${m[1]} "${m[2]!.replace(/[\\"]/g, (c) => `\\${c}`)}"`);
  return `BEGIN LIST VAR ${UPS}\n${lines.join('\n')}\nEND LIST VAR ${UPS}\n`;
}

const dir = path.join(import.meta.dirname, '..', 'fixtures', 'nut');
const replies = readdirSync(dir)
  .filter((f) => f.endsWith('.dev'))
  .map((f) => listVarReply(fixture('nut', f)));
const errors = ['ERR DATA-STALE', 'ERR ACCESS-DENIED', 'ERR UNKNOWN-UPS', 'ERR DRIVER-NOT-CONNECTED', 'ERR', 'ERR ', 'ERR constructor', 'ERR toString extra words', 'ERR __proto__'].map((e) => `${e}\n`);
const listUps = `BEGIN LIST UPS\nUPS ${UPS} "CyberPower CP900EPFCLCD"\nEND LIST UPS\n`;

// What the stand-in answers next; one connection per run, so one reply at a time is enough.
let reply = '';
let server: net.Server;
let port = 0;

beforeAll(async () => {
  server = net.createServer((socket) => {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const command = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (command === 'LOGOUT') {
          socket.end('OK Goodbye\n');
          return;
        }
        // Answer, then hang up: a truncated reply must end in an error, not a wait for more.
        socket.end(reply);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** One client session against the stand-in: typed errors only; variables → valid records. */
async function session(text: string, command: 'listVars' | 'getVar' | 'listUps', powerFactor: number): Promise<void> {
  reply = text;
  const client = await NutClient.connect({ host: '127.0.0.1', port, readTimeoutMs: 2_000, connectTimeoutMs: 2_000 });
  let records: DataRecord[];
  try {
    if (command === 'listUps') {
      for (const [name, description] of await client.listUps()) expect(typeof name === 'string' && typeof description === 'string').toBe(true);
      return;
    }
    const vars = command === 'listVars' ? await client.listVars(UPS) : new Map([['ups.status', await client.getVar(UPS, 'ups.status')]]);
    // As src/agents/nut/sample.ts and src/agents/nut/index.ts build them: a reading without any
    // known variable is a SampleError (reported), never a record without fields.
    const reading = checkedReading(vars, powerFactor);
    if (reading instanceof SampleError) throw reading;
    const { power_method, ...fields } = reading;
    const base = { source: 'homeflux.nut', location: 'rack', tags: { ups: UPS } };
    records = [upsRecord({ ...base, time: 1_750_000_000, timescale: 'minute', fields: power_method === undefined ? {} : { power_method } }, fields)];
    if (fields.power_w !== undefined) records.push(powerRecord({ ...base, time: 1_749_999_600, timescale: 'hour', fields: { samples: 1 } }, { value: fields.power_w, unit: 'Wh' }));
  } catch (error) {
    expectTyped(error, NUT_ERRORS);
    expect((error as Error).message).not.toMatch(/native code/);
    return;
  } finally {
    client.close();
  }
  // Outside the try: a RecordError here is an invalid record slipping through, not a typed refusal.
  expectValid(records, 'nut');
}

const powerFactor = fc.oneof(fc.constant(0.6), fc.double({ min: 0, max: 1, noNaN: true }));

describe('NUT replies under random and mutated payloads', () => {
  it('the real dumps give valid records (the baseline the mutations start from)', async () => {
    for (const text of replies) await session(text, 'listVars', 0.6);
    reply = replies[0]!;
    const client = await NutClient.connect({ host: '127.0.0.1', port });
    expect((await client.listVars(UPS)).size).toBeGreaterThan(10);
    client.close();
  });

  it('LIST VAR: mutated real replies', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedText(replies), powerFactor, (text, pf) => session(text, 'listVars', pf)),
      { numRuns: RUNS, timeout: 10_000 },
    );
  });

  it('LIST VAR: values of the real replies replaced by odd values', async () => {
    const odd = fc.oneof(weirdValue.map((v) => String(v)), fc.constantFrom('1e308', '-1e308', '1.7e308', '9'.repeat(400), 'OL\u0001CHRG', 'OB\\', '\u0000'));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...replies), fc.array(fc.tuple(fc.constantFrom('ups.realpower', 'output.realpower', 'ups.load', 'ups.realpower.nominal', 'ups.power.nominal', 'battery.charge', 'input.voltage', 'ups.status'), odd), { minLength: 1, maxLength: 4 }), powerFactor, (text, changes, pf) => {
        let out = text.replace(`\nEND LIST VAR ${UPS}`, '');
        for (const [name, value] of changes) out += `\nVAR ${UPS} ${name} ${quoteArgument(value.replace(/[\r\n\0]/g, ' '))}`;
        return session(`${out}\nEND LIST VAR ${UPS}\n`, 'listVars', pf);
      }),
      { numRuns: RUNS, timeout: 10_000 },
    );
  });

  it('GET VAR and LIST UPS: mutated and error replies', async () => {
    const getReplies = ['VAR ups ups.status "OL CHRG"\n', 'VAR ups ups.status "OL\n', 'VAR ups ups.status "OL \\"quoted\\" \\\\"\n', ...errors];
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedText(getReplies), mutatedText([listUps, ...errors])), fc.constantFrom('getVar' as const, 'listUps' as const, 'listVars' as const), (text, command) => session(text, command, 0.6)),
      { numRuns: RUNS, timeout: 10_000 },
    );
  });

  it('random text as a reply', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary' }), fc.string().map((s) => `BEGIN LIST VAR ${UPS}\n${s}\nEND LIST VAR ${UPS}\n`)), (text) => session(text, 'listVars', 0.6)),
      { numRuns: RUNS / 2, timeout: 10_000 },
    );
  });

  it('splitWords: any line gives words or its documented RangeError; quoteArgument round-trips', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (line) => {
        try {
          splitWords(line);
        } catch (error) {
          expect(error).toBeInstanceOf(RangeError);
        }
        const value = line.replace(/[\r\n\0]/g, '');
        expect(splitWords(`VAR ups x ${quoteArgument(value)}`)).toEqual(['VAR', 'ups', 'x', value]);
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
