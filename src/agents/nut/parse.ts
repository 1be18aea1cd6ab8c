/**
 * From a UPS's NUT variables to the numbers homeflux stores: watts (and how they were
 * obtained), load, battery charge, input voltage and status.
 *
 * Watts, first rule that applies (NUT units: `*.realpower*` in W, `*.power*` in VA, `ups.load` in %):
 *
 * | `power_method` | watts |
 * |---|---|
 * | `ups.realpower` | measured output power |
 * | `output.realpower` | measured output power (snmp-ups and others publish it here) |
 * | `ups.load*ups.realpower.nominal` | load % × nominal real power |
 * | `ups.load*output.realpower.nominal` | same, nominal under its `output.` name |
 * | `ups.load*ups.power.nominal*pf` | load % × nominal apparent power (VA) × power factor |
 * | `ups.load*output.power.nominal*pf` | same, nominal under its `output.` name |
 */
import type { UpsState } from '../../records.ts';

/** Watts and the rule that produced them. */
export interface UpsPower {
  watts: number;
  /** One of the `power_method` values in the module comment. */
  method: string;
}

/** A parsed sample of one UPS. */
export interface UpsReading extends UpsState {
  /** The watts rule, when watts could be computed. */
  power_method?: string;
}

/** A finite number from a NUT value, or undefined for absent, empty or non-numeric values. */
export function numberVar(vars: ReadonlyMap<string, string>, name: string): number | undefined {
  const raw = vars.get(name)?.trim();
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

// Watts to 3 decimals: NUT values have at most a few decimals, and this keeps
// `13 % × 540 W` at 70.2 rather than 70.20000000000002.
// Non-finite results (1e308 W × 1000, or load × nominal overflowing) are undefined, so the
// rule does not apply and the next one is tried (found by fuzzing).
const round3 = (value: number): number | undefined => {
  const rounded = Math.round(value * 1000) / 1000;
  return Number.isFinite(rounded) ? rounded : Number.isFinite(value) ? value : undefined;
};

/**
 * Watts drawn by the UPS's load, or undefined when the UPS reports neither a measured power
 * nor a load with a nominal power.
 *
 * @example upsPower(new Map([['ups.load', '13'], ['ups.realpower.nominal', '540']]), 0.6)
 *   // { watts: 70.2, method: 'ups.load*ups.realpower.nominal' }
 */
export function upsPower(vars: ReadonlyMap<string, string>, powerFactor: number): UpsPower | undefined {
  for (const name of ['ups.realpower', 'output.realpower']) {
    const watts = round3(numberVar(vars, name) ?? Number.NaN);
    if (watts !== undefined) return { watts, method: name };
  }
  const load = numberVar(vars, 'ups.load');
  if (load === undefined) return undefined;
  for (const name of ['ups.realpower.nominal', 'output.realpower.nominal']) {
    const watts = round3((load * (numberVar(vars, name) ?? Number.NaN)) / 100);
    if (watts !== undefined) return { watts, method: `ups.load*${name}` };
  }
  for (const name of ['ups.power.nominal', 'output.power.nominal']) {
    const watts = round3((load * (numberVar(vars, name) ?? Number.NaN) * powerFactor) / 100);
    if (watts !== undefined) return { watts, method: `ups.load*${name}*pf` };
  }
  return undefined;
}

/** The fields of an `ups` record from a UPS's variables. */
export function upsReading(vars: ReadonlyMap<string, string>, powerFactor: number): UpsReading {
  const power = upsPower(vars, powerFactor);
  // Control characters cannot be stored in a field (validateRecord refuses the whole record);
  // status words never contain them, so they are read as word separators (found by fuzzing).
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const status = vars.get('ups.status')?.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return {
    load_percent: numberVar(vars, 'ups.load'),
    power_w: power?.watts,
    power_method: power?.method,
    battery_charge: numberVar(vars, 'battery.charge'),
    input_voltage: numberVar(vars, 'input.voltage'),
    status: status === '' ? undefined : status,
  };
}
