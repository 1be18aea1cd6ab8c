/**
 * src/cli.ts, the one entry runner: unexpected errors are caught once, shown redacted, exit 1;
 * SIGTERM aborts the command's signal and the command's own exit code stands; a graceful
 * command's first SIGINT only interrupts. Run as real child processes (signals are real).
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function child(body: string, env: Record<string, string> = {}): { done: Promise<{ code: number | null; stderr: string }>; kill: (signal: NodeJS.Signals) => void; ready: Promise<void> } {
  // The interval keeps the event loop alive while the command waits for a signal, as a real
  // command's sockets and timers do (else Node exits 13 on the unsettled top-level await).
  const code = `import { runMain } from './src/cli.ts';\nconst keep = setInterval(() => {}, 1000);\n${body}\nclearInterval(keep);`;
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  proc.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('READY')) markReady();
  });
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => proc.on('close', (c) => resolve({ code: c, stderr })));
  return { done, kill: (s) => proc.kill(s), ready };
}

describe('runMain', () => {
  it('catches an unexpected error once, shows its stack with secrets redacted, exits 1', async () => {
    const run = child(`await runMain('demo', async (c) => { throw new Error('boom with ' + c.env.INFLUX_TOKEN); });`, { INFLUX_TOKEN: 'sntl-cli-token-42' });
    const { code, stderr } = await run.done;
    expect(code).toBe(1);
    expect(stderr).toMatch(/demo: unexpected error: Error: boom with \*\*\*/);
    expect(stderr).not.toContain('sntl-cli-token-42');
  });

  it('SIGTERM aborts the signal; the command decides the exit code', async () => {
    const run = child(`await runMain('w', async (c) => { console.log('READY'); await new Promise((r) => c.signal.addEventListener('abort', r)); return c.interrupt.aborted ? 7 : 9; });`);
    await run.ready;
    run.kill('SIGTERM');
    expect((await run.done).code).toBe(7);
  });

  it('graceful: the first SIGINT interrupts only, the second aborts', async () => {
    const run = child(`await runMain('b', async (c) => {
      console.log('READY');
      await new Promise((r) => c.interrupt.addEventListener('abort', r));
      console.log('READY2');
      if (c.signal.aborted) return 3;
      await new Promise((r) => c.signal.addEventListener('abort', r));
      return 5;
    }, { graceful: 'the chunks' });`);
    await run.ready;
    run.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    run.kill('SIGINT');
    const { code, stderr } = await run.done;
    expect(code).toBe(5);
    expect(stderr).toContain('b: interrupted — finishing the chunks in flight');
  });
});

describe('exit codes', () => {
  it('are numbers only in src/cli.ts: every command returns EXIT.ok / EXIT.failed / EXIT.usage', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const offenders: string[] = [];
    for (const root of ['src', 'dashboards', 'scripts']) {
      for (const file of await readdir(root, { recursive: true })) {
        if (!file.endsWith('.ts') || `${root}/${file}` === 'src/cli.ts') continue;
        const text = await readFile(`${root}/${file}`, 'utf8');
        // A command is a function returning a Promise<number>; its literal returns would be exit codes.
        if (!/Promise<number>/.test(text)) continue;
        for (const [i, line] of text.split('\n').entries()) {
          if (/\breturn [0-2];|\? [0-2] : [0-2]\b|process\.exit(Code)?\b/.test(line)) offenders.push(`${root}/${file}:${i + 1}: ${line.trim()}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
