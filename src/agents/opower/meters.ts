/**
 * The utility accounts of a login as the agent uses them ("meters": each with the location and
 * tags of its records), the date spans requests cover, and the header that picks a customer.
 */
import { DateTime } from 'luxon';
import { ConfigError, SourceDataError } from '../../errors.ts';
import type { TimeWindow } from '../../window.ts';
import type { OpowerClient } from './client.ts';
import { parseCustomersPage, type UtilityAccount } from './parse.ts';
import type { Utility } from './utilities.ts';
import type { DateSpan } from './walk.ts';

const API = '/ei/edge/apis';

/** An account with the location and tags its records get. */
export interface Meter {
  account: UtilityAccount;
  location: string;
  tags: Record<string, string>;
}

/** Split the local dates a window touches into spans of at most `days`. */
export function dateSpans(window: TimeWindow, timezone: string, days: number): DateSpan[] {
  const first = DateTime.fromSeconds(window.start, { zone: timezone }).startOf('day');
  const last = DateTime.fromSeconds(window.end - 1, { zone: timezone }).startOf('day');
  const spans: DateSpan[] = [];
  for (let d = first; d <= last; d = d.plus({ days })) {
    const end = d.plus({ days: days - 1 });
    spans.push({ first: d, last: end < last ? end : last });
  }
  return spans;
}

/** Give each account a location and, when there are several, an `account` tag so no two share a series. */
export function metersFor(accounts: readonly UtilityAccount[], utility: Utility): Meter[] {
  const location = `${utility.id}_meter`;
  if (accounts.length === 1) return [{ account: accounts[0]!, location, tags: {} }];
  const shorts = accounts.map((a) => a.uuid.slice(0, 8));
  const unique = new Set(shorts).size === shorts.length;
  return accounts.map((account, i) => ({ account, location, tags: { account: unique ? shorts[i]! : account.uuid } }));
}

/** `Opower-Selected-Entities` for an account's customer (tronikos/opower `_get_headers`). */
export function selectedEntities(account: UtilityAccount | undefined): Record<string, string> {
  return account?.customerUuid ? { 'opower-selected-entities': JSON.stringify([`urn:opower:customer:uuid:${account.customerUuid}`]) } : {};
}

/** Every utility account of the login, page by page (`offset`, `batchSize`, `total`), as meters; `accountUuid` keeps one. */
export async function loadMeters(client: OpowerClient, utility: Utility, accountUuid: string | undefined, signal: AbortSignal): Promise<Meter[]> {
  // Some families learn the utility code at sign-in (AEP): sign in before building the path.
  await client.ready(signal);
  const path = `${API}/multi-account-v1/cws/${client.utility.code}/customers`;
  const batchSize = 100;
  let accounts: UtilityAccount[] = [];
  for (let offset = 0, page = 0; page < 100; page++) {
    const got = parseCustomersPage(await client.getJson(path, { offset: String(offset), batchSize: String(batchSize), addressFilter: '' }, signal), path);
    accounts.push(...got.accounts);
    offset += got.count;
    if (got.count === 0 || got.total === undefined || offset >= got.total) break;
  }
  if (accountUuid !== undefined) {
    const found = accounts.filter((a) => a.uuid === accountUuid);
    if (found.length === 0) throw new ConfigError(`OPOWER_ACCOUNT_UUID names none of the ${accounts.length} account(s) of this ${utility.name} login`, 'OPOWER_ACCOUNT_UUID');
    accounts = found;
  }
  if (accounts.length === 0) throw new SourceDataError(`${path}: this ${utility.name} login has no utility accounts`);
  return metersFor(accounts, utility);
}
