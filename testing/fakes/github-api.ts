/**
 * A fake of the parts of GitHub the hourly workflow touches, for running its steps here:
 *
 * - the REST API (version 2022-11-28) on 127.0.0.1: `GET /repos/{owner}/{repo}` (`default_branch`,
 *   `private`), `GET /repos/{owner}/{repo}/actions/caches` (`key` as exact key or prefix, `ref`,
 *   newest first; `total_count` + `actions_caches` of `{id, ref, key, version, created_at,
 *   last_accessed_at, size_in_bytes}`) and `DELETE /repos/{owner}/{repo}/actions/caches/{id}`
 *   (204, 404 for an unknown id); a request without `Authorization: Bearer …` gets 401. Shapes
 *   from the REST reference ("REST API endpoints for GitHub Actions cache").
 * - the cache service behind actions/cache, as directories: `save` refuses an existing key
 *   (entries are immutable; documented), `restore` tries the exact key, then each restore-key
 *   prefix, newest entry first, in the run's branch and then the default branch (documented
 *   scope rules); `failNextRestore()` makes one restore miss as a cache-service outage does
 *   (the action only warns, output `cache-matched-key` empty).
 */
import { cp, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ActionHandler } from '../helpers/workflow.ts';

/** One stored cache entry. */
export interface FakeCacheEntry {
  id: number;
  key: string;
  ref: string;
  created: number;
  dir: string;
  size: number;
}

/** A running fake. */
export interface FakeGitHub {
  url: string;
  repository: string;
  entries: FakeCacheEntry[];
  /** Requests seen, `METHOD path`. */
  requests: string[];
  setPrivate(value: boolean): void;
  failNextRestore(): void;
  /** actions/cache/save: copy `dir` into a new entry; false when the key exists. */
  save(key: string, ref: string, dir: string): Promise<boolean>;
  /** actions/cache/restore: the matched key (the entry copied into `dir`), or '' on a miss. */
  restore(options: { key: string; restoreKeys: string[]; ref: string }, dir: string): Promise<string>;
  stop(): Promise<void>;
}

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir, { recursive: true }).catch(() => [] as string[])) {
    const s = await stat(join(dir, f));
    if (s.isFile()) total += s.size;
  }
  return total;
}

/** Start the fake for `owner/repo`, default branch `main`. */
export async function startFakeGitHub(options: { root: string; repository?: string; defaultBranch?: string; private?: boolean }): Promise<FakeGitHub> {
  const repository = options.repository ?? 'me/homeflux';
  const defaultBranch = options.defaultBranch ?? 'main';
  const state = { private: options.private ?? true, failRestore: false, nextId: 1, clock: 0 };
  const entries: FakeCacheEntry[] = [];
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://api');
    requests.push(`${req.method} ${url.pathname}`);
    const send = (status: number, body?: unknown): void => {
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) return send(401, { message: 'Requires authentication' });
    if (req.method === 'GET' && url.pathname === `/repos/${repository}`) {
      return send(200, { full_name: repository, default_branch: defaultBranch, private: state.private, visibility: state.private ? 'private' : 'public' });
    }
    if (req.method === 'GET' && url.pathname === `/repos/${repository}/actions/caches`) {
      const key = url.searchParams.get('key');
      const ref = url.searchParams.get('ref');
      const refName = ref && !ref.startsWith('refs/') ? `refs/heads/${ref}` : ref;
      const matching = entries.filter((e) => (key === null || e.key.startsWith(key)) && (refName === null || e.ref === refName)).sort((a, b) => b.created - a.created);
      const perPage = Number(url.searchParams.get('per_page') ?? 30);
      const page = Number(url.searchParams.get('page') ?? 1);
      const iso = (t: number): string => new Date(Date.UTC(2026, 0, 1) + t * 1000).toISOString();
      return send(200, {
        total_count: matching.length,
        actions_caches: matching.slice((page - 1) * perPage, page * perPage).map((e) => ({ id: e.id, ref: e.ref, key: e.key, version: 'v', created_at: iso(e.created), last_accessed_at: iso(e.created), size_in_bytes: e.size })),
      });
    }
    const del = new RegExp(`^/repos/${repository}/actions/caches/(\\d+)$`).exec(url.pathname);
    if (req.method === 'DELETE' && del) {
      const i = entries.findIndex((e) => e.id === Number(del[1]));
      if (i < 0) return send(404, { message: 'Not Found' });
      const [gone] = entries.splice(i, 1);
      void rm(gone!.dir, { recursive: true, force: true });
      return send(204);
    }
    send(404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    repository,
    entries,
    requests,
    setPrivate: (value) => void (state.private = value),
    failNextRestore: () => void (state.failRestore = true),
    async save(key, ref, dir) {
      if (entries.some((e) => e.key === key && e.ref === ref)) return false;
      const target = join(options.root, `entry-${state.nextId}`);
      await mkdir(target, { recursive: true });
      await cp(dir, target, { recursive: true });
      entries.push({ id: state.nextId++, key, ref, created: ++state.clock, dir: target, size: await sizeOf(target) });
      return true;
    },
    async restore(request, dir) {
      if (state.failRestore) {
        state.failRestore = false;
        return '';
      }
      for (const ref of [request.ref, `refs/heads/${defaultBranch}`]) {
        const inRef = entries.filter((e) => e.ref === ref).sort((a, b) => b.created - a.created);
        const found = inRef.find((e) => e.key === request.key) ?? request.restoreKeys.map((p) => inRef.find((e) => e.key.startsWith(p))).find((e) => e !== undefined);
        if (found) {
          await mkdir(dir, { recursive: true });
          await cp(found.dir, dir, { recursive: true });
          return found.key;
        }
      }
      return '';
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The `uses:` steps of the hourly job against this fake: checkout and setup-node done, the cache
 * actions on its cache service (restore reports the matched key; save only warns when the key
 * exists, as the action does), upload-artifact logged. `ref` is read at each step.
 */
export function fakeActions(github: FakeGitHub, ref: () => string): Record<string, ActionHandler> {
  return {
    'actions/checkout': async () => ({}),
    'actions/setup-node': async () => ({}),
    'actions/cache/restore': async (_step, inputs, dir) => {
      const key = await github.restore({ key: inputs.key!, restoreKeys: inputs['restore-keys']!.split('\n').filter(Boolean), ref: ref() }, join(dir, inputs.path!));
      return { outputs: { 'cache-matched-key': key, 'cache-hit': String(key === inputs.key) } };
    },
    'actions/cache/save': async (_step, inputs, dir) => {
      const saved = await github.save(inputs.key!, ref(), join(dir, inputs.path!));
      return { log: saved ? `saved ${inputs.key}` : `warning: cache entry ${inputs.key} exists` };
    },
    'actions/upload-artifact': async () => ({ log: 'uploaded' }),
  };
}
