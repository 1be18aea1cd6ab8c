/**
 * UPS power from NUT servers → the configured store (the file store ./data when INFLUX_URL is unset).
 * `npx tsx scripts/nut.ts` takes one sample (cron every minute);
 * `npx tsx scripts/nut.ts --watch [--interval 60s]` keeps sampling until SIGTERM (systemd service).
 */
import { mainNut } from '../src/agents/nut/run.ts';

await mainNut();
