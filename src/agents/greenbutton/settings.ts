/** Settings of the Green Button agent: the files to import and their location tag. */
import { z } from '../../deps.ts';

/** Settings of the Green Button agent. */
export const greenbuttonSettings = z.object({
  /** Files to import (from the command line, or `GREENBUTTON_FILES` separated by the path delimiter or commas). */
  files: z.array(z.string().min(1)).min(1, 'expected at least one file: pass file names as arguments or set GREENBUTTON_FILES'),
  /** `location` tag of the records. */
  location: z.string().trim().regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, "_", "-" or "."').default('greenbutton_meter'),
});

/** Parsed Green Button settings. */
export type GreenbuttonSettings = z.output<typeof greenbuttonSettings>;
