/**
 * A local stand-in for the bucket-management part of the InfluxDB 2.x API (no InfluxDB 2 server
 * can be installed here). It speaks the documented endpoints as InfluxDB 2.7 answers them:
 *
 * - every request needs `Authorization: Token <token>`, else 401 `{"code":"unauthorized","message":"unauthorized access"}`;
 * - `GET /api/v2/orgs[?org=NAME]` → 200 `{"orgs":[…]}`; an unknown name → 404 `{"code":"not found"}`;
 * - `GET /api/v2/buckets?orgID=&name=` → 200 `{"buckets":[…]}`; a name that matches nothing → 404
 *   `{"code":"not found","message":"bucket \"x\" not found"}`;
 * - `POST /api/v2/buckets` `{orgID,name,retentionRules,description}` → 201 with the bucket; a name
 *   already used in the organisation → 422 `{"code":"conflict"}`; a rule under one hour → 422;
 * - `PATCH /api/v2/buckets/{id}` → 200 with the bucket; `DELETE /api/v2/buckets/{id}` → 204;
 *   an unknown ID → 404;
 * - `POST /api/v2/write?org=&bucket=&precision=` (line protocol, gzip allowed) → 204, the lines
 *   kept per bucket in `written`; an unknown organisation or bucket → 404
 *   `{"code":"not found","message":"bucket \"x\" not found"}`, as InfluxDB 2.7 answers;
 * - `GET /query?db=&q=&epoch=s` (the InfluxQL compatibility API), only the one statement shape
 *   homeflux's migration sends: `SELECT * FROM "m" WHERE "source" = 'x' GROUP BY *` → the 1.x
 *   JSON result, one series per tag set — through a DBRP mapping of `db`, as 2.x resolves it;
 *   without one, `{"code":"not found","message":"no dbrp mapping found"}`;
 * - `GET /api/v2/dbrps?orgID=&db=` → 200 `{"content":[…]}`; `POST /api/v2/dbrps`
 *   `{orgID, bucketID, database, retention_policy, default}` → 201 with the mapping; a
 *   bucket's mappings go with it when it is deleted;
 * - `POST /api/v2/delete?org=&bucket=` `{start, stop, predicate}` with a predicate of the form
 *   `_measurement="m" AND source="x"` → 204 (the documented delete API), the matching points
 *   in [start, stop) dropped.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';

/** A bucket held by the fake. */
export interface FakeBucket {
  id: string;
  orgID: string;
  name: string;
  description?: string;
  retentionRules: Array<{ type: 'expire'; everySeconds: number; shardGroupDurationSeconds?: number }>;
  createdAt: string;
  updatedAt: string;
}

/** A database/retention-policy mapping to a bucket. */
export interface FakeDbrp {
  id: string;
  orgID: string;
  bucketID: string;
  database: string;
  retention_policy: string;
  default: boolean;
}

/** A request the fake answered. */
export interface FakeRequest {
  method: string;
  path: string;
  status: number;
}

/** A running fake. */
export interface Influx2Api {
  url: string;
  token: string;
  orgs: Array<{ id: string; name: string }>;
  /** Buckets by ID (tests may read and seed it). */
  buckets: Map<string, FakeBucket>;
  requests: FakeRequest[];
  /** Lines accepted by `/api/v2/write`, per bucket name. */
  written: Map<string, string[]>;
  /** DBRP mappings (tests may seed them). */
  dbrps: FakeDbrp[];
  stop(): Promise<void>;
}

/** Options for {@link startInflux2Api}. */
export interface Influx2ApiOptions {
  token?: string;
  orgs?: string[];
}

const newId = (): string => randomBytes(8).toString('hex');

/** One point of a line homeflux wrote (no escapes, no string fields), time in seconds. */
export function parsePoint(line: string): { measurement: string; tags: Record<string, string>; fields: Record<string, number>; time: number } | undefined {
  const [series, fields, time] = line.split(' ');
  if (series === undefined || fields === undefined || time === undefined) return undefined;
  const [measurement, ...tags] = series.split(',');
  const pairs = (list: string[]): string[][] => list.map((p) => p.split('='));
  return { measurement: measurement!, tags: Object.fromEntries(pairs(tags)), fields: Object.fromEntries(pairs(fields.split(',')).map(([k, v]) => [k, Number(v)])), time: Number(time) };
}

/** Start the fake on 127.0.0.1, port 0. */
export async function startInflux2Api(options: Influx2ApiOptions = {}): Promise<Influx2Api> {
  const token = options.token ?? 'fake-operator-token';
  const orgs = (options.orgs ?? ['home']).map((name) => ({ id: newId(), name }));
  const buckets = new Map<string, FakeBucket>();
  const requests: FakeRequest[] = [];
  const written = new Map<string, string[]>();
  const dbrps: FakeDbrp[] = [];
  // Points as stored: lines written later replace earlier ones of the same series and time.
  const pointsOf = (bucket: string): NonNullable<ReturnType<typeof parsePoint>>[] => (written.get(bucket) ?? []).flatMap((line) => parsePoint(line) ?? []);

  const send = (res: ServerResponse, status: number, body?: unknown): void => {
    if (body === undefined) res.writeHead(status).end();
    else res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
  };
  const badRules = (rules: unknown): string | undefined => {
    if (rules === undefined) return undefined;
    if (!Array.isArray(rules)) return 'retentionRules must be an array';
    for (const rule of rules as Array<{ type?: unknown; everySeconds?: unknown }>) {
      if (rule.type !== 'expire' || typeof rule.everySeconds !== 'number') return 'retention rule must have type "expire" and everySeconds';
      if (rule.everySeconds !== 0 && rule.everySeconds < 3600) return 'retention policy duration must be at least 1h0m0s';
    }
    return undefined;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.headers.authorization !== `Token ${token}`) {
      send(res, 401, { code: 'unauthorized', message: 'unauthorized access' });
      return 401;
    }
    const notFound = (message: string): number => (send(res, 404, { code: 'not found', message }), 404);
    if (req.method === 'GET' && url.pathname === '/api/v2/orgs') {
      const name = url.searchParams.get('org');
      const found = name === null ? orgs : orgs.filter((o) => o.name === name);
      if (name !== null && found.length === 0) return notFound(`organization name "${name}" not found`);
      send(res, 200, { links: { self: '/api/v2/orgs' }, orgs: found });
      return 200;
    }
    if (url.pathname === '/api/v2/buckets' && req.method === 'GET') {
      const orgID = url.searchParams.get('orgID');
      const name = url.searchParams.get('name');
      const found = [...buckets.values()].filter((b) => (orgID === null || b.orgID === orgID) && (name === null || b.name === name));
      if (name !== null && found.length === 0) return notFound(`bucket "${name}" not found`);
      send(res, 200, { links: { self: '/api/v2/buckets' }, buckets: found });
      return 200;
    }
    if (url.pathname === '/api/v2/buckets' && req.method === 'POST') {
      const body = (await readBody(req)) as { orgID?: string; name?: string; description?: string; retentionRules?: unknown } | null;
      if (!body || typeof body.name !== 'string' || body.name === '' || typeof body.orgID !== 'string') {
        send(res, 400, { code: 'invalid', message: 'bucket name and orgID are required' });
        return 400;
      }
      if (!orgs.some((o) => o.id === body.orgID)) return notFound('organization not found');
      if ([...buckets.values()].some((b) => b.orgID === body.orgID && b.name === body.name)) {
        send(res, 422, { code: 'conflict', message: `bucket with name ${body.name} already exists` });
        return 422;
      }
      const problem = badRules(body.retentionRules);
      if (problem) {
        send(res, 422, { code: 'unprocessable entity', message: problem });
        return 422;
      }
      const now = new Date().toISOString();
      const bucket: FakeBucket = { id: newId(), orgID: body.orgID, name: body.name, description: body.description, retentionRules: (body.retentionRules as FakeBucket['retentionRules']) ?? [], createdAt: now, updatedAt: now };
      buckets.set(bucket.id, bucket);
      send(res, 201, bucket);
      return 201;
    }
    if (url.pathname === '/api/v2/write' && req.method === 'POST') {
      const org = orgs.find((o) => o.name === url.searchParams.get('org') || o.id === url.searchParams.get('orgID'));
      if (!org) return notFound(`organization name "${url.searchParams.get('org') ?? ''}" not found`);
      const name = url.searchParams.get('bucket') ?? '';
      if (![...buckets.values()].some((b) => b.orgID === org.id && b.name === name)) return notFound(`bucket "${name}" not found`);
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks);
      const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      const lines = written.get(name) ?? [];
      lines.push(...text.split('\n').filter((l) => l !== ''));
      written.set(name, lines);
      send(res, 204);
      return 204;
    }
    if (url.pathname === '/api/v2/dbrps' && req.method === 'GET') {
      const orgID = url.searchParams.get('orgID');
      const db = url.searchParams.get('db');
      send(res, 200, { content: dbrps.filter((m) => (orgID === null || m.orgID === orgID) && (db === null || m.database === db)) });
      return 200;
    }
    if (url.pathname === '/api/v2/dbrps' && req.method === 'POST') {
      const body = (await readBody(req)) as Partial<FakeDbrp> | null;
      if (!body || typeof body.bucketID !== 'string' || typeof body.database !== 'string' || typeof body.orgID !== 'string') {
        send(res, 400, { code: 'invalid', message: 'bucketID, database and orgID are required' });
        return 400;
      }
      if (!buckets.has(body.bucketID)) return notFound('bucket not found');
      const mapping: FakeDbrp = { id: newId(), orgID: body.orgID, bucketID: body.bucketID, database: body.database, retention_policy: body.retention_policy ?? 'autogen', default: body.default ?? true };
      dbrps.push(mapping);
      send(res, 201, { content: mapping });
      return 201;
    }
    if (url.pathname === '/query' && req.method === 'GET') {
      const mapped = dbrps.find((m) => m.database === (url.searchParams.get('db') ?? ''));
      const db = mapped && buckets.get(mapped.bucketID)?.name;
      if (db === undefined) return notFound('no dbrp mapping found');
      const q = /^SELECT \* FROM "([^"]+)" WHERE "source" = '([^']*)' GROUP BY \*$/.exec(url.searchParams.get('q') ?? '');
      if (!q) {
        send(res, 400, { code: 'invalid', message: 'this fake answers only SELECT * FROM "m" WHERE "source" = \'x\' GROUP BY *' });
        return 400;
      }
      const groups = new Map<string, { tags: Record<string, string>; rows: Map<number, Record<string, number>> }>();
      for (const p of pointsOf(db)) {
        if (p.measurement !== q[1] || p.tags.source !== q[2]) continue;
        const key = JSON.stringify(Object.entries(p.tags).sort());
        const group = groups.get(key) ?? { tags: p.tags, rows: new Map() };
        group.rows.set(p.time, { ...group.rows.get(p.time), ...p.fields });
        groups.set(key, group);
      }
      const series = [...groups.values()].map((g) => {
        const fields = [...new Set([...g.rows.values()].flatMap((r) => Object.keys(r)))].sort();
        return { name: q[1], tags: g.tags, columns: ['time', ...fields], values: [...g.rows.entries()].sort(([a], [b]) => a - b).map(([t, r]) => [t, ...fields.map((f) => r[f] ?? null)]) };
      });
      send(res, 200, { results: [{ statement_id: 0, ...(series.length > 0 ? { series } : {}) }] });
      return 200;
    }
    if (url.pathname === '/api/v2/delete' && req.method === 'POST') {
      const name = url.searchParams.get('bucket') ?? '';
      if (![...buckets.values()].some((b) => b.name === name)) return notFound(`bucket "${name}" not found`);
      const body = (await readBody(req)) as { start?: string; stop?: string; predicate?: string } | null;
      const pred = /^_measurement="([^"]+)" AND source="([^"]*)"$/.exec(body?.predicate ?? '');
      const start = Date.parse(body?.start ?? '') / 1000;
      const stop = Date.parse(body?.stop ?? '') / 1000;
      if (!pred || !Number.isFinite(start) || !Number.isFinite(stop)) {
        send(res, 400, { code: 'invalid', message: 'start, stop and a predicate _measurement="m" AND source="x" are required by this fake' });
        return 400;
      }
      written.set(name, (written.get(name) ?? []).filter((line) => {
        const p = parsePoint(line);
        return !(p && p.measurement === pred[1] && p.tags.source === pred[2] && p.time >= start && p.time < stop);
      }));
      send(res, 204);
      return 204;
    }
    const match = /^\/api\/v2\/buckets\/([^/]+)$/.exec(url.pathname);
    if (match) {
      const bucket = buckets.get(decodeURIComponent(match[1]!));
      if (!bucket) return notFound('bucket not found');
      if (req.method === 'DELETE') {
        buckets.delete(bucket.id);
        for (let i = dbrps.length - 1; i >= 0; i--) if (dbrps[i]!.bucketID === bucket.id) dbrps.splice(i, 1);
        send(res, 204);
        return 204;
      }
      if (req.method === 'PATCH') {
        const body = (await readBody(req)) as { retentionRules?: unknown; name?: string } | null;
        const problem = badRules(body?.retentionRules);
        if (problem) {
          send(res, 422, { code: 'unprocessable entity', message: problem });
          return 422;
        }
        if (body?.retentionRules !== undefined) bucket.retentionRules = body.retentionRules as FakeBucket['retentionRules'];
        if (typeof body?.name === 'string') bucket.name = body.name;
        bucket.updatedAt = new Date().toISOString();
        send(res, 200, bucket);
        return 200;
      }
    }
    return notFound('path not found');
  }

  const server = createServer((req, res) => {
    handle(req, res)
      .then((status) => requests.push({ method: req.method ?? '', path: req.url ?? '', status }))
      .catch((error: unknown) => {
        requests.push({ method: req.method ?? '', path: req.url ?? '', status: 400 });
        if (!res.headersSent) send(res, 400, { code: 'invalid', message: `bad request: ${String(error)}` });
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    orgs,
    buckets,
    requests,
    written,
    dbrps,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
