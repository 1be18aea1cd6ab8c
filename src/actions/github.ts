/**
 * The few GitHub REST API calls the workflows make for themselves, with the job's own token
 * (`github.token`, given as `GH_TOKEN`): the repository (default branch, visibility) and the
 * Actions caches of the spool. Endpoints and fields as documented for REST API version
 * 2022-11-28: `GET /repos/{owner}/{repo}`, `GET /repos/{owner}/{repo}/actions/caches`
 * (`key` = an exact key or a prefix, `ref` = `refs/heads/<branch>`; answers `total_count` and
 * `actions_caches` of `{id, ref, key, created_at, last_accessed_at, size_in_bytes}`; needs
 * `actions: read`) and `DELETE /repos/{owner}/{repo}/actions/caches/{cache_id}` (204; needs
 * `actions: write`).
 */
import type { Env } from '../config.ts';
import { ConfigError, excerpt } from '../errors.ts';
import { readText } from '../http.ts';

/** What the workflows need of the repository. */
export interface RepositoryInfo {
  defaultBranch: string;
  private: boolean;
}

/** One Actions cache entry. */
export interface CacheEntry {
  id: number;
  key: string;
  ref: string;
  createdAt: string;
  sizeInBytes: number;
}

/** A GitHub REST client for one repository. */
export class GitHubApi {
  constructor(
    readonly apiUrl: string,
    readonly repository: string,
    private readonly token: string,
    private readonly timeoutMs = 30_000,
  ) {}

  /** From the variables every Actions step has (`GITHUB_API_URL`, `GITHUB_REPOSITORY`) and `GH_TOKEN`. */
  static fromEnv(env: Env): GitHubApi {
    const need = (name: string): string => {
      const value = env[name]?.trim();
      if (!value) throw new ConfigError(`${name} is required but not set (the workflow step passes it)`, name);
      return value;
    };
    return new GitHubApi(env.GITHUB_API_URL?.trim() || 'https://api.github.com', need('GITHUB_REPOSITORY'), need('GH_TOKEN'));
  }

  /** The default branch and whether the repository is private. */
  async repositoryInfo(): Promise<RepositoryInfo> {
    const body = (await this.call('GET', `/repos/${this.repository}`)) as { default_branch?: unknown; private?: unknown };
    if (typeof body.default_branch !== 'string' || typeof body.private !== 'boolean') throw new Error(`GitHub API /repos/${this.repository}: expected default_branch and private, got ${excerpt(body)}`);
    return { defaultBranch: body.default_branch, private: body.private };
  }

  /** Cache entries whose key starts with `prefix` on `ref`, newest first (all pages). */
  async caches(prefix: string, ref: string): Promise<CacheEntry[]> {
    const out: CacheEntry[] = [];
    for (let page = 1; ; page++) {
      const query = new URLSearchParams({ key: prefix, ref, per_page: '100', page: String(page), sort: 'created_at', direction: 'desc' });
      const body = (await this.call('GET', `/repos/${this.repository}/actions/caches?${query}`)) as { total_count?: number; actions_caches?: Array<Record<string, unknown>> };
      const rows = body.actions_caches ?? [];
      for (const row of rows) out.push({ id: Number(row.id), key: String(row.key), ref: String(row.ref), createdAt: String(row.created_at), sizeInBytes: Number(row.size_in_bytes) });
      if (rows.length < 100 || out.length >= (body.total_count ?? 0)) break;
    }
    return out.filter((c) => c.key.startsWith(prefix)).sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id - a.id);
  }

  /** Delete one cache entry by id. */
  async deleteCache(id: number): Promise<void> {
    await this.call('DELETE', `/repos/${this.repository}/actions/caches/${id}`);
  }

  private async call(method: string, path: string): Promise<unknown> {
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: { accept: 'application/vnd.github+json', authorization: `Bearer ${this.token}`, 'x-github-api-version': '2022-11-28', 'user-agent': 'homeflux' },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await readText(response, { source: `GitHub API ${method} ${path.split('?')[0]}` });
    if (!response.ok) throw new Error(`GitHub API ${method} ${path.split('?')[0]}: HTTP ${response.status}: ${excerpt(text)}`);
    return text === '' ? {} : (JSON.parse(text) as unknown);
  }
}
