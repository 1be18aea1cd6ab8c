/**
 * Green Button files → the configured store.
 * `npx tsx scripts/greenbutton.ts [--since 2024-01-01] [--dry-run] <file…>`
 * (files may also come from GREENBUTTON_FILES).
 */
import { greenbuttonModule } from '../src/agents/greenbutton.ts';
import { type ExtraOptions, parseRunArgs } from '../src/args.ts';
import { main } from '../src/run.ts';

const extra: ExtraOptions = { positionals: '<file…>', help: ['<file…>         Green Button ESPI XML or utility CSV files (or GREENBUTTON_FILES)'] };
let files: string[] = [];
try {
  files = parseRunArgs(process.argv.slice(2), extra).positionals;
} catch {
  // main() parses again and reports the bad argument with the usage text.
}
await main(greenbuttonModule(files), extra);
