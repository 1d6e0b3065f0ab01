import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { GnocchiRoutes } from './gnocchi-routes.js';
import { QuotaRoutes } from './quota-routes.js';
import { ResellRoutes } from './resell-routes.js';
import {
  type Fault,
  FaultSchema,
  parseScenario,
  type Scenario,
  type ScenarioInput,
  type SimRoute,
} from './scenario.js';
import { SimState } from './state.js';
import { TokenBook } from './tokens.js';
import type { RequestRecord, SimRequest, SimResponse } from './types.js';

export type { RequestRecord } from './types.js';

export interface SimulatorOptions {
  port?: number;
  /** Clock for token expiry and relative scenario instants. */
  now?: () => number;
  /** Keep request bodies in the log (on by default). */
  recordBodies?: boolean;
}

/** Endpoints of a running simulator, shaped like the config's `endpoints`. */
export interface SimEndpoints {
  resell: string;
  identity: string;
  gnocchi: string[];
  quotaManager: Record<string, string>;
}

interface Route {
  name: SimRoute;
  method: string;
  pattern: RegExp;
  auth: boolean;
  handle: (req: SimRequest) => SimResponse;
}

interface ActiveFault {
  fault: Fault;
  seen: number;
  applied: number;
}

/**
 * A Selectel look-alike on 127.0.0.1: resell v2, Keystone, Gnocchi per data
 * source and the Quota Management API per region, driven by a scenario, with
 * injectable faults and a log of every request it served.
 */
export class SelectelSimulator {
  readonly requests: RequestRecord[] = [];
  /** Tokens issued so far, by either auth path. */
  get tokensIssued(): number {
    return this.tokens.issuedCount;
  }

  /** Maximum number of requests in progress at once. */
  peakConcurrency = 0;
  readonly scenario: Scenario;
  readonly state: SimState;
  private readonly server: Server;
  private readonly routes: Route[];
  private readonly tokens: TokenBook;
  private faults: ActiveFault[];
  private inFlight = 0;
  private baseUrl = '';
  private readonly now: () => number;
  private readonly recordBodies: boolean;

  private constructor(scenario: Scenario, options: SimulatorOptions) {
    this.scenario = scenario;
    this.now = options.now ?? Date.now;
    this.recordBodies = options.recordBodies ?? true;
    this.state = new SimState(scenario, this.now());
    this.faults = scenario.faults.map((fault) => ({
      fault,
      seen: 0,
      applied: 0,
    }));
    this.tokens = new TokenBook(scenario, this.now, () => this.catalog());
    this.routes = buildRoutes(this, this.tokens);
    this.server = createServer((req, res) => {
      void this.serve(req, res);
    });
    this.server.keepAliveTimeout = 30_000;
  }

  /** Starts a simulator on 127.0.0.1 (port 0 picks a free port). */
  static async start(
    scenario: ScenarioInput | Scenario,
    options: SimulatorOptions = {},
  ): Promise<SelectelSimulator> {
    const sim = new SelectelSimulator(parseScenario(scenario), options);
    await new Promise<void>((resolve, reject) => {
      sim.server.once('error', reject);
      sim.server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = sim.server.address() as AddressInfo;
    sim.baseUrl = `http://127.0.0.1:${port}`;

    return sim;
  }

  get url(): string {
    return this.baseUrl;
  }

  get endpoints(): SimEndpoints {
    return {
      resell: `${this.baseUrl}/vpc/resell/v2`,
      identity: `${this.baseUrl}/identity/v3`,
      gnocchi: this.scenario.gnocchi.sources.map(
        (source) => `${this.baseUrl}/gnocchi/${source}/v1`,
      ),
      quotaManager: Object.fromEntries(
        this.scenario.regions.map((region) => [
          region.name,
          `${this.baseUrl}/quota-manager/${region.name}/v1`,
        ]),
      ),
    };
  }

  addFault(fault: z_FaultInput): void {
    this.faults.push({ fault: FaultSchema.parse(fault), seen: 0, applied: 0 });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /**
   * Builds every series' buckets at each granularity of the archive policy
   * ahead of the first request, as a real Gnocchi has them stored, so that
   * benchmarks do not time the simulator's own set-up.
   */
  warmUp(): void {
    for (const project of this.state.projects.values()) {
      for (const series of project.series.values()) {
        for (const granularity of this.scenario.gnocchi.granularities) {
          series.buckets(granularity);
        }
      }
    }
  }

  /** Every token issued so far, for tests that check nothing leaks them. */
  get issuedTokens(): string[] {
    return this.tokens.issued;
  }

  /** Revokes every token issued so far, so each later use gets a 401. */
  expireTokens(): void {
    this.tokens.revokeAll();
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Requests that matched a route name, in the order served. */
  requestsTo(route: SimRoute): RequestRecord[] {
    return this.requests.filter((record) => record.route === route);
  }

  /** Current quotas of a project, keyed `region/zone/resource`. */
  quotaValues(
    projectId: string,
  ): Record<string, { value: number; used: number }> {
    const project = this.state.project(projectId);
    if (!project) throw new Error(`simulator has no project ${projectId}`);
    const values: Record<string, { value: number; used: number }> = {};
    for (const [region, quotas] of project.quotas) {
      for (const quota of quotas.values()) {
        values[`${region}/${quota.zone ?? '-'}/${quota.resource}`] = {
          value: quota.value,
          used: quota.used,
        };
      }
    }
    return values;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private catalog() {
    const endpoints = this.endpoints;
    return [
      {
        type: 'resell',
        name: 'resell',
        endpoints: [
          { interface: 'public', region: 'ru-1', url: endpoints.resell },
        ],
      },
      {
        type: 'quota-manager',
        name: 'quota-manager',
        endpoints: Object.entries(endpoints.quotaManager).map(
          ([region, url]) => ({ interface: 'public', region, url }),
        ),
      },
    ];
  }

  private async serve(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    this.inFlight++;
    this.peakConcurrency = Math.max(this.peakConcurrency, this.inFlight);
    try {
      await this.answer(req, res);
    } catch (error) {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: 'simulator_failure',
            message: String(error),
          }),
        );
      }
    } finally {
      this.inFlight--;
    }
  }

  private async answer(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const rawBody = await readBody(req);
    if (url.pathname.startsWith('/__sim/')) {
      this.admin(url.pathname, res);
      return;
    }
    const found = this.match(req.method ?? 'GET', url.pathname);
    const record: RequestRecord = {
      seq: this.requests.length + 1,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: queryRecord(url.searchParams),
      route: found?.route.name ?? 'unknown',
      status: 0,
      authenticated: false,
    };
    Object.assign(record, found?.scope ?? {});
    this.requests.push(record);
    let body: unknown;
    if (rawBody.length > 0) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        return send(res, record, {
          status: 400,
          body: { error: 'invalid_json' },
        });
      }
      if (this.recordBodies) record.body = body;
    }
    if (!found)
      return send(res, record, { status: 404, body: { error: 'not_found' } });
    const faults = this.matchFaults(record);
    for (const fault of faults) {
      if (fault.latencyMs) await delay(fault.latencyMs);
    }
    const failing = faults.find(
      (fault) => fault.dropConnection || fault.status,
    );
    if (failing?.dropConnection) {
      record.status = -1;
      req.socket.destroy();
      return;
    }
    if (failing?.status) {
      const headers: Record<string, string> = {};
      if (failing.retryAfterSeconds !== undefined)
        headers['retry-after'] = String(failing.retryAfterSeconds);
      return send(res, record, {
        status: failing.status,
        headers,
        body: faultBody(record.route, failing.status),
      });
    }
    if (found.route.auth) {
      record.authenticated = this.tokens.use(req.headers['x-auth-token']);
      if (!record.authenticated) {
        return send(res, record, {
          status: 401,
          body: { error: 'unauthorized' },
        });
      }
    }
    const response = found.route.handle({
      method: record.method,
      path: url.pathname,
      baseUrl: this.baseUrl,
      query: url.searchParams,
      headers: req.headers,
      body,
      params: found.params,
      faults,
    });
    send(res, record, response);
  }

  private match(method: string, path: string) {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const match = route.pattern.exec(path);
      if (!match) continue;
      const params = Object.fromEntries(
        Object.entries(match.groups ?? {}).map(([key, value]) => [
          key,
          decodeURIComponent(value),
        ]),
      );
      const scope: Partial<RequestRecord> = {};
      if (params.project) scope.project = params.project.replaceAll('-', '');
      if (params.resource) scope.project = params.resource.replaceAll('-', '');
      if (params.region) scope.region = params.region;
      if (params.source) scope.source = params.source;
      return { route, params, scope };
    }
    return undefined;
  }

  private matchFaults(record: RequestRecord): Fault[] {
    const matched: Fault[] = [];
    for (const active of this.faults) {
      const { fault } = active;
      if (fault.route !== '*' && fault.route !== record.route) continue;
      if (fault.project && fault.project !== record.project) continue;
      if (fault.region && fault.region !== record.region) continue;
      if (fault.source && fault.source !== record.source) continue;
      active.seen++;
      if (active.seen <= fault.after) continue;
      if (fault.times !== undefined && active.applied >= fault.times) continue;
      active.applied++;
      matched.push(fault);
    }
    return matched;
  }

  private admin(path: string, res: ServerResponse): void {
    if (path === '/__sim/requests') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(this.requests));
      return;
    }
    if (path === '/__sim/endpoints') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(this.endpoints));
      return;
    }
    res.writeHead(404).end();
  }
}

type z_FaultInput = Parameters<typeof FaultSchema.parse>[0];

function buildRoutes(sim: SelectelSimulator, tokens: TokenBook): Route[] {
  const gnocchi = new GnocchiRoutes(sim.state);
  const resell = new ResellRoutes(sim.state);
  const quotas = new QuotaRoutes(sim.state);
  const g = '^/gnocchi/(?<source>[a-z0-9-]+)/v1';
  const q =
    '^/quota-manager/(?<region>[a-z0-9-]+)/v1/projects/(?<project>[^/]+)';
  const r = '^/vpc/resell/v2';
  const route = (
    name: SimRoute,
    method: string,
    pattern: string,
    handle: (req: SimRequest) => SimResponse,
    auth = true,
  ): Route => ({
    name,
    method,
    pattern: new RegExp(`${pattern}$`),
    handle,
    auth,
  });

  return [
    route(
      'resell.tokens',
      'POST',
      `${r}/tokens`,
      (req) => tokens.issueResellToken(req),
      false,
    ),
    route(
      'identity.tokens',
      'POST',
      '^/identity/v3/auth/tokens',
      (req) => tokens.issueKeystoneToken(req),
      false,
    ),
    route('resell.projects', 'GET', `${r}/projects`, () =>
      resell.listProjects(),
    ),
    route('resell.project', 'GET', `${r}/projects/(?<project>[^/]+)`, (req) =>
      resell.getProject(req),
    ),
    route('resell.capabilities', 'GET', `${r}/capabilities`, () =>
      resell.capabilities(),
    ),
    route(
      'resell.quotas.get',
      'GET',
      `${r}/quotas/projects/(?<project>[^/]+)`,
      (req) => quotas.legacyGet(req),
    ),
    route(
      'resell.quotas.patch',
      'PATCH',
      `${r}/quotas/projects/(?<project>[^/]+)`,
      (req) => quotas.legacyPatch(req),
    ),
    route(
      'gnocchi.measures',
      'GET',
      `${g}/resource/[^/]+/(?<resource>[^/]+)/metric/(?<metric>[^/]+)/measures`,
      (req) => gnocchi.measuresByResource(req),
    ),
    route(
      'gnocchi.measures',
      'GET',
      `${g}/metric/(?<id>[^/]+)/measures`,
      (req) => gnocchi.measuresByMetricId(req),
    ),
    route('gnocchi.metric', 'GET', `${g}/metric/(?<id>[^/]+)`, (req) =>
      gnocchi.metric(req),
    ),
    route('gnocchi.resources', 'GET', `${g}/resource/(?<type>[^/]+)`, (req) =>
      gnocchi.listResources(req),
    ),
    route(
      'gnocchi.search',
      'POST',
      `${g}/search/resource/(?<type>[^/]+)`,
      (req) => gnocchi.search(req),
    ),
    route('gnocchi.aggregates', 'POST', `${g}/aggregates`, (req) =>
      gnocchi.aggregates(req),
    ),
    route('quota.get', 'GET', `${q}/quotas`, (req) => quotas.get(req)),
    route('quota.patch', 'PATCH', `${q}/quotas`, (req) => quotas.patch(req)),
    route('quota.limits', 'GET', `${q}/limits`, (req) => quotas.limits(req)),
  ];
}

function faultBody(route: SimRoute | 'unknown', status: number): unknown {
  if (route.startsWith('gnocchi.')) {
    return {
      code: status,
      title: status === 429 ? 'Too Many Requests' : 'Service Unavailable',
      description: 'injected fault',
    };
  }
  if (route.startsWith('quota.')) {
    return { error: { message: 'injected fault', code: status, errors: [] } };
  }
  return {
    error: status === 429 ? 'too_many_requests' : 'service_unavailable',
  };
}

function send(
  res: ServerResponse,
  record: RequestRecord,
  response: SimResponse,
): void {
  record.status = response.status;
  const headers: Record<string, string> = { ...response.headers };
  let payload = '';
  if (response.body !== undefined) {
    payload = JSON.stringify(response.body);
    headers['content-type'] = 'application/json';
  }
  res.writeHead(response.status, headers);
  res.end(payload);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function queryRecord(params: URLSearchParams): Record<string, string[]> {
  const query: Record<string, string[]> = {};
  for (const [key, value] of params) (query[key] ??= []).push(value);
  return query;
}
