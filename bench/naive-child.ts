/**
 * The naive baseline: the request sequence of Selectel's consumption
 * statistics page, one project at a time. It gets the account token, lists
 * the `sel_project` resources page by page, then reads each project's
 * measures with one GET, strictly one request after another. It keeps one
 * sum of the buckets read per project and evaluates no budgets.
 */
import { dayConvention } from '../lib/costs/calendar.js';
import { queryWindow } from '../lib/costs/spend.js';
import { formatInstant } from '../lib/selectel/gnocchi.js';
import type { SimEndpoints } from '../sim/server.js';
import { childInput, reportOutcome } from './ipc.js';
import { type MemoryFigures, measureMemory } from './memory.js';
import { BENCH_TIMEZONE } from './scenario.js';

export interface NaiveChildInput {
  endpoints: SimEndpoints;
  account: string;
  apiKey: string;
  runAtMs: number;
  granularitySeconds: 3600 | 86_400;
  metric: string;
}

export interface NaiveChildResult {
  wallMs: number;
  requests: number;
  projects: number;
  /** Projects whose measures request failed. */
  failures: number;
  bucketsRead: number;
  memory: MemoryFigures;
}

interface Resource {
  id: string;
  original_resource_id?: string;
}

async function naive(): Promise<NaiveChildResult> {
  const input = childInput<NaiveChildInput>();
  const startedMs = performance.now();
  const { value, memory } = await measureMemory(() => readAll(input));

  return { ...value, wallMs: performance.now() - startedMs, memory };
}

async function readAll(input: NaiveChildInput) {
  let requests = 0;
  const token = await accountToken(input);
  requests++;
  const gnocchi = input.endpoints.gnocchi[0];
  if (!gnocchi) throw new Error('the simulator lists no Gnocchi endpoint');
  const headers = { 'x-auth-token': token };
  const resources: Resource[] = [];
  let next: string | undefined = `${gnocchi}/resource/sel_project?limit=1000`;
  while (next) {
    const response = await fetch(next, { headers });
    requests++;
    if (!response.ok) {
      throw new Error(`listing projects failed with HTTP ${response.status}`);
    }
    resources.push(...((await response.json()) as Resource[]));
    next = nextLink(response.headers.get('link'), gnocchi);
  }
  const window = queryWindow(
    input.runAtMs,
    dayConvention(input.granularitySeconds, BENCH_TIMEZONE),
  );
  const query = new URLSearchParams({
    aggregation: 'max',
    granularity: String(input.granularitySeconds),
    start: formatInstant(new Date(window.startMs)),
    stop: formatInstant(new Date(window.stopMs)),
  }).toString();
  const kopecksByProject = new Map<string, number>();
  let failures = 0;
  let bucketsRead = 0;
  for (const resource of resources) {
    const url = `${gnocchi}/resource/generic/${resource.id}/metric/${input.metric}/measures?${query}`;
    const response = await fetch(url, { headers });
    requests++;
    if (!response.ok) {
      failures++;
      await response.body?.cancel();
      continue;
    }
    const measures = (await response.json()) as [string, number, number][];
    bucketsRead += measures.length;
    let kopecks = 0;
    for (const [, , value] of measures) kopecks += value;
    kopecksByProject.set(resource.original_resource_id ?? resource.id, kopecks);
  }

  return {
    requests,
    projects: kopecksByProject.size + failures,
    failures,
    bucketsRead,
  };
}

async function accountToken(input: NaiveChildInput): Promise<string> {
  const response = await fetch(`${input.endpoints.resell}/tokens`, {
    method: 'POST',
    headers: { 'x-token': input.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ token: { account_name: input.account } }),
  });
  if (!response.ok) {
    throw new Error(
      `getting the account token failed: HTTP ${response.status}`,
    );
  }
  const body = (await response.json()) as { token: { id: string } };

  return body.token.id;
}

/** Follows `Link: <…>; rel="next"` only to the Gnocchi endpoint it started on. */
function nextLink(header: string | null, gnocchi: string): string | undefined {
  const match = header ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(header) : null;
  const url = match?.[1];

  return url && new URL(url).origin === new URL(gnocchi).origin
    ? url
    : undefined;
}

void reportOutcome(naive);
