/**
 * Running a workflow job's steps here, in order, the way the runner does — enough of it for our
 * own workflows, whose expressions stay within this subset on purpose:
 *
 * - `${{ … }}` in `env:` and `with:`: terms joined by `||` (the first non-empty wins), each a
 *   context lookup (`secrets.X`, `vars.X`, `github.X`, `inputs.X`, `steps.<id>.outputs.<name>`,
 *   `steps.<id>.outcome`) or a quoted string;
 * - `if:`: clauses joined by `&&`, each `always()`, `success()`, `failure()`, a lookup or
 *   `hashFiles('<glob>')` compared with `==`/`!=` to a quoted string, or a bare lookup; as on
 *   GitHub, a condition without a status function means `success() && …`;
 * - `run:` steps in `bash --noprofile --norc -eo pipefail` with `GITHUB_OUTPUT`, `GITHUB_ENV`
 *   (not used by us) and `GITHUB_STEP_SUMMARY` files; outputs are `name=value` lines;
 * - `uses:` steps are handed to the caller's handlers (checkout and setup-node are no-ops here:
 *   the workspace is already a checkout with node_modules).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const run = promisify(execFile);

/** One job of a workflow file, as the runner would read it (`path` is the workflow's file). */
export async function workflowJob(path: string, name: string): Promise<Job> {
  const job = (parse(await readFile(path, 'utf8')) as { jobs: Record<string, Job | undefined> }).jobs[name];
  if (!job) throw new Error(`${path}: no job "${name}"`);
  return job;
}

/** A workflow step, as YAML gives it. */
export interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  'continue-on-error'?: boolean;
  'timeout-minutes'?: number;
  with?: Record<string, unknown>;
}

/** A workflow job. */
export interface Job {
  if?: string;
  env?: Record<string, string>;
  steps: Step[];
  permissions?: Record<string, string>;
  'timeout-minutes'?: number;
}

/** What a step did. */
export interface StepResult {
  outcome: 'success' | 'failure' | 'skipped';
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
}

/** Handles a `uses:` step: its `with:` already interpolated. */
export type ActionHandler = (step: Step, inputs: Record<string, string>, cwd: string) => Promise<{ outcome?: 'success' | 'failure'; outputs?: Record<string, string>; log?: string }>;

/** Looks up a context name; steps.* come from the results so far. */
function lookup(term: string, context: Record<string, string>, results: Map<string, StepResult>): string {
  const quoted = /^'(.*)'$/.exec(term);
  if (quoted) return quoted[1]!.replace(/''/g, "'");
  const step = /^steps\.([\w-]+)\.(outcome|conclusion|outputs\.([\w-]+))$/.exec(term);
  if (step) {
    const result = results.get(step[1]!);
    if (!result) return '';
    return step[3] !== undefined ? (result.outputs[step[3]] ?? '') : result.outcome;
  }
  if (!/^(secrets|vars|github|inputs|env)\.[\w.-]+$/.test(term)) throw new Error(`unsupported expression term: ${term}`);
  return context[term] ?? '';
}

/** Interpolate `${{ a || b }}` in a value. */
export function interpolate(value: string, context: Record<string, string>, results: Map<string, StepResult> = new Map()): string {
  return value.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expression: string) => {
    for (const term of expression.split('||').map((t) => t.trim())) {
      const found = lookup(term, context, results);
      if (found !== '') return found;
    }
    return '';
  });
}

async function hashFiles(cwd: string, glob: string): Promise<string> {
  // A plain path: the SHA-256 of the file, '' when there is none (as the runner's hashFiles).
  if (/^[\w./-]+$/.test(glob) && !glob.includes('*')) {
    const content = await readFile(join(cwd, glob)).catch(() => undefined);
    return content === undefined ? '' : createHash('sha256').update(content).digest('hex');
  }
  // Else only the shape we use: `dir/**/*.ext` — any file below dir ending in .ext.
  const m = /^([\w.-]+)\/\*\*\/\*(\.\w+)$/.exec(glob);
  if (!m) throw new Error(`unsupported hashFiles pattern: ${glob}`);
  const files = (await readdir(join(cwd, m[1]!), { recursive: true }).catch(() => [] as string[])).filter((f) => f.endsWith(m[2]!));
  return files.length === 0 ? '' : `hash-of-${files.length}`;
}

/** `${{ hashFiles('…') }}` in a value, replaced by the hash (the other expressions are left to {@link interpolate}). */
async function withHashes(value: string, cwd: string): Promise<string> {
  let out = value;
  for (const m of value.matchAll(/\$\{\{\s*hashFiles\('([^']+)'\)\s*\}\}/g)) out = out.replace(m[0], await hashFiles(cwd, m[1]!));
  return out;
}

/** Evaluate an `if:`. */
export async function condition(expression: string | undefined, state: { failed: boolean; context: Record<string, string>; results: Map<string, StepResult>; cwd: string }): Promise<boolean> {
  const text = (expression ?? '').replace(/^\$\{\{\s*|\s*\}\}$/g, '').trim();
  const clauses = text === '' ? [] : text.split('&&').map((c) => c.trim());
  const hasStatus = clauses.some((c) => /^(always|success|failure|cancelled)\(\)$/.test(c));
  if (!hasStatus) clauses.unshift('success()');
  for (const clause of clauses) {
    let ok: boolean;
    if (clause === 'always()') ok = true;
    else if (clause === 'success()') ok = !state.failed;
    else if (clause === 'failure()') ok = state.failed;
    else if (clause === 'cancelled()') ok = false;
    else {
      const cmp = /^(.+?)\s*(==|!=)\s*(.+)$/.exec(clause);
      const value = async (term: string): Promise<string> => {
        const hash = /^hashFiles\('(.+)'\)$/.exec(term.trim());
        return hash ? hashFiles(state.cwd, hash[1]!) : lookup(term.trim(), state.context, state.results);
      };
      if (cmp) {
        const [left, right] = [await value(cmp[1]!), await value(cmp[3]!)];
        ok = cmp[2] === '==' ? left === right : left !== right;
      } else ok = !['', 'false', '0'].includes(await value(clause));
    }
    if (!ok) return false;
  }
  return true;
}

/** Run a `run:` step in bash with the job's and step's env. */
export async function runStep(job: Job, step: Step, options: { context: Record<string, string>; cwd: string; extraEnv?: Record<string, string>; results?: Map<string, StepResult> }): Promise<StepResult> {
  const results = options.results ?? new Map<string, StepResult>();
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
  for (const [key, value] of Object.entries({ ...job.env, ...step.env })) env[key] = interpolate(String(value), options.context, results);
  Object.assign(env, options.extraEnv);
  const outputFile = join(options.cwd, `.github-output-${step.id ?? 'x'}`);
  await writeFile(outputFile, '');
  env.GITHUB_OUTPUT = outputFile;
  const script = join(options.cwd, `.step-${step.id ?? 'x'}.sh`);
  await writeFile(script, step.run!);
  let result: Omit<StepResult, 'outputs'>;
  try {
    const { stdout, stderr } = await run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], { cwd: options.cwd, env, maxBuffer: 16 << 20, timeout: 180_000 });
    result = { outcome: 'success', code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    result = { outcome: 'failure', code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
  const outputs = Object.fromEntries(
    (await readFile(outputFile, 'utf8'))
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { ...result, outputs };
}

/** What a job run did: each step's result (skipped ones too) and whether the job failed. */
export interface JobRun {
  failed: boolean;
  steps: Array<{ step: Step; result: StepResult }>;
  /** stdout and stderr of every step. */
  log: string;
}

/** Run every step of `job` in order. */
export async function runJob(
  job: Job,
  options: { context: Record<string, string>; cwd: string; extraEnv?: Record<string, string>; actions: Record<string, ActionHandler>; /** `run:` steps taken as done (by name), e.g. an install the workspace already has. */ done?: readonly string[] },
): Promise<JobRun> {
  const results = new Map<string, StepResult>();
  const steps: JobRun['steps'] = [];
  let failed = false;
  let log = '';
  for (const step of job.steps) {
    let result: StepResult;
    if (!(await condition(step.if, { failed, context: options.context, results, cwd: options.cwd }))) {
      result = { outcome: 'skipped', code: 0, stdout: '', stderr: '', outputs: {} };
    } else if (step.run !== undefined && options.done?.includes(step.name ?? '')) {
      result = { outcome: 'success', code: 0, stdout: '(done beforehand)\n', stderr: '', outputs: {} };
    } else if (step.run !== undefined) {
      result = await runStep(job, step, { ...options, results });
    } else {
      const name = step.uses!.replace(/@.*$/, '');
      const handler = options.actions[name];
      if (!handler) throw new Error(`no handler for ${step.uses}`);
      const inputs: Record<string, string> = {};
      for (const [k, v] of Object.entries(step.with ?? {})) inputs[k] = interpolate(await withHashes(String(v), options.cwd), options.context, results);
      const done = await handler(step, inputs, options.cwd);
      result = { outcome: done.outcome ?? 'success', code: done.outcome === 'failure' ? 1 : 0, stdout: done.log ?? '', stderr: '', outputs: done.outputs ?? {} };
    }
    if (result.outcome === 'failure' && !step['continue-on-error']) failed = true;
    if (step.id) results.set(step.id, result);
    steps.push({ step, result });
    log += `--- ${step.name ?? step.uses ?? step.id} (${result.outcome})\n${result.stdout}${result.stderr}`;
  }
  await appendFile(join(options.cwd, '.job-log'), log);
  return { failed, steps, log };
}
