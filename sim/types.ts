import type { Fault, SimRoute } from './scenario.js';

/** One request the simulator served, for tests to assert on. */
export interface RequestRecord {
  seq: number;
  method: string;
  /** Path without the query, as received. */
  path: string;
  query: Record<string, string[]>;
  route: SimRoute | 'unknown';
  status: number;
  /** 32-hex project id the request was about, if any. */
  project?: string;
  region?: string;
  source?: string;
  body?: unknown;
  /** The request carried a token the simulator had issued and still honoured. */
  authenticated: boolean;
}

export interface SimRequest {
  method: string;
  path: string;
  /** Base URL of the simulator, for `Link` headers. */
  baseUrl: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  params: Record<string, string>;
  /** Faults matched by this request that shape its response (such as `failEntries`). */
  faults: Fault[];
}

export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
