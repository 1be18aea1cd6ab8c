/**
 * A UPS's `power` energy records: each hour's (mean watts × 1 h), and the totals of the local
 * day and week they fall in (the sum of those hours; see src/hour-energy.ts for why they are
 * summed from the state file rather than by the pipeline's rollups).
 */
import { type EnergySeries, hourDayWeekRecords } from '../../hour-energy.ts';
import type { DataRecord } from '../../records.ts';
import type { LocalRules } from '../../window.ts';
import type { NutState } from './state.ts';

/**
 * The `power` records of one UPS after a sample was added to `state`: the hours that have
 * kept samples (the current and the previous hour), then their days and weeks.
 */
export function energyRecords(state: NutState, key: string, options: { series: EnergySeries; rules: LocalRules }): DataRecord[] {
  return hourDayWeekRecords(state, key, state.hours(key, options.rules), options);
}
