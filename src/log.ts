/**
 * Logging: plain readable lines on a terminal, GitHub Actions workflow commands on Actions
 * (groups, `::error::`/`::warning::` annotations, `::add-mask::`, the step summary).
 *
 * Every line passes through {@link Logger.redact}: configured secrets, values masked at run time
 * and credentials inside URLs never reach the output.
 */
import { appendFileSync } from 'node:fs';
import { type Env, hostsOf, secretValues } from './config.ts';

/** Where a logger writes; tests pass their own. */
export interface LogStreams {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Options for {@link Logger}. */
export interface LoggerOptions {
  env: Env;
  verbose?: boolean;
  streams?: LogStreams;
}

const defaultStreams: LogStreams = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

// Workflow command values must escape these or a message could end the command early.
const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

// Hosts already announced with ::add-mask:: by this process (one line each, however many loggers).
const announcedMasks = new Set<string>();

/** A logger bound to one script run. */
export class Logger {
  readonly actions: boolean;
  readonly verbose: boolean;
  private readonly secrets = new Set<string>();
  private readonly streams: LogStreams;
  private readonly summaryPath: string | undefined;

  constructor(options: LoggerOptions) {
    this.actions = options.env.GITHUB_ACTIONS === 'true';
    this.verbose = options.verbose ?? false;
    this.streams = options.streams ?? defaultStreams;
    this.summaryPath = this.actions ? options.env.GITHUB_STEP_SUMMARY : undefined;
    for (const value of secretValues(options.env)) this.secrets.add(value);
    // The runner masks secrets as given; the host alone it would print.
    if (this.actions) {
      for (const host of hostsOf(options.env.INFLUX_URL)) {
        if (announcedMasks.has(host)) continue;
        announcedMasks.add(host);
        this.streams.out(`::add-mask::${escapeData(host)}`);
      }
    }
  }

  /** Hide a value obtained at run time (cookie, bearer token) from every later line. */
  mask(value: string | undefined): void {
    if (value === undefined || value.length < 3 || this.secrets.has(value)) return;
    this.secrets.add(value);
    if (this.actions) this.streams.out(`::add-mask::${escapeData(value)}`);
  }

  /** Replace secrets and URL credentials in `text`. */
  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is hidden whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
    out = out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+(?::[^/\s@]*)?@/gi, '$1***@');
    out = out.replace(/([?&](?:p|u|password|token|access_token|api_key)=)[^&\s"']+/gi, '$1***');
    // An Authorization header echoed back by a server: `Basic` carries user:password in base64,
    // which the literal secret values above never match.
    out = out.replace(/(authorization["']?\s*[:=]\s*["']?(?:Basic|Bearer|Token)\s+)[^\s"',;}]+/gi, '$1***');
    return out;
  }

  /** A normal progress or result line. */
  info(message: string): void {
    this.streams.out(this.redact(message));
  }

  /** Detail shown with `--verbose` or `HOMEFLUX_DEBUG=true`. */
  debug(message: string): void {
    if (!this.verbose) return;
    this.streams.err(this.actions ? `::debug::${escapeData(this.redact(message))}` : `debug: ${this.redact(message)}`);
  }

  /** Worth knowing, nothing wrong (an agent skipped for want of its settings): a notice annotation on Actions. */
  notice(message: string, title?: string): void {
    this.annotate('notice', message, title);
  }

  /** Something went partly wrong; the run continues. */
  warn(message: string, title?: string): void {
    this.annotate('warning', message, title);
  }

  /** Something failed. */
  error(message: string, title?: string): void {
    this.annotate('error', message, title);
  }

  private annotate(level: 'notice' | 'warning' | 'error', message: string, title?: string): void {
    const text = this.redact(message);
    if (this.actions) {
      const props = title === undefined ? '' : ` title=${escapeProperty(this.redact(title))}`;
      this.streams.out(`::${level}${props}::${escapeData(text)}`);
    } else {
      this.streams.err(`${level}: ${title === undefined ? '' : `${this.redact(title)}: `}${text}`);
    }
  }

  /** Run `fn` inside a collapsible group on Actions (a heading elsewhere). */
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    if (this.actions) this.streams.out(`::group::${escapeData(this.redact(title))}`);
    else if (this.verbose) this.streams.out(`== ${this.redact(title)}`);
    try {
      return await fn();
    } finally {
      if (this.actions) this.streams.out('::endgroup::');
    }
  }

  /** Append Markdown to the Actions step summary (no-op elsewhere). */
  summary(markdown: string): void {
    if (this.summaryPath === undefined || this.summaryPath === '') return;
    appendFileSync(this.summaryPath, `${this.redact(markdown)}\n`);
  }
}
