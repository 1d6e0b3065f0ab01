import type { Log } from '../log.js';
import {
  apiKeyIssuer,
  serviceUserIssuer,
  TokenCache,
  type TokenCacheOptions,
} from './auth.js';
import { GnocchiClient } from './gnocchi.js';
import { type HttpOptions, SelectelHttp } from './http.js';
import {
  LegacyResellQuotaApi,
  type QuotaApi,
  QuotaManagerApi,
} from './quotas.js';
import { ResellClient } from './resell.js';

/** Selectel's public endpoints. */
export const SELECTEL_ENDPOINTS = {
  resell: 'https://api.selectel.ru/vpc/resell/v2',
  identity: 'https://cloud.api.selcloud.ru/identity/v3',
  // Cloud core (servers, volumes, networks, PaaS). The cloud platform
  // (api.ru-1.selvpc.ru) and CDN (api.ru-2.selvpc.ru) sources must be added
  // in the config when their costs count.
  gnocchi: ['https://api.ru-3.selvpc.ru/metric/v1'],
} as const;

/**
 * Quota manager URL of a region when neither the config nor the Keystone
 * catalog gives one.
 * NOTE: the `/v1` suffix is taken from Selectel's examples and is not
 * confirmed outside the catalog.
 */
export function defaultQuotaManagerUrl(region: string): string {
  return `https://${region}.cloud.api.selcloud.ru/quota-manager/v1`;
}

export type SelectelCredentials =
  | { kind: 'apiKey'; apiKey: string }
  | { kind: 'serviceUser'; username: string; password: string };

export interface SelectelClientOptions {
  account: string;
  credentials: SelectelCredentials;
  endpoints?: {
    resell?: string;
    identity?: string;
    gnocchi?: readonly string[];
    /** Region to quota manager URL; every region listed is read. */
    quotaManager?: Readonly<Record<string, string>>;
  };
  quotaApi?: 'quota-manager' | 'resell';
  gnocchiPageLimit?: number;
  http?: HttpOptions;
  token?: TokenCacheOptions;
  log?: Log;
}

/** Every Selectel API the guard uses, sharing one token cache and one pool. */
export interface SelectelClient {
  readonly account: string;
  readonly http: SelectelHttp;
  readonly tokens: TokenCache;
  readonly resell: ResellClient;
  readonly gnocchi: readonly GnocchiClient[];
  readonly quotas: QuotaApi;
  /** Values that must never appear in logs or messages. */
  readonly secrets: readonly string[];
  close(): Promise<void>;
}

export function createSelectelClient(
  options: SelectelClientOptions,
): SelectelClient {
  const http = new SelectelHttp({ log: options.log, ...options.http });
  const resellUrl = options.endpoints?.resell ?? SELECTEL_ENDPOINTS.resell;
  const identityUrl =
    options.endpoints?.identity ?? SELECTEL_ENDPOINTS.identity;
  const credentials = options.credentials;
  const issuer =
    credentials.kind === 'apiKey'
      ? apiKeyIssuer(http, {
          resellUrl,
          apiKey: credentials.apiKey,
          account: options.account,
        })
      : serviceUserIssuer(http, {
          identityUrl,
          username: credentials.username,
          password: credentials.password,
          account: options.account,
        });
  const tokens = new TokenCache(issuer, { log: options.log, ...options.token });
  const resell = new ResellClient(http, tokens, resellUrl);
  // Each source once: spend is summed over them, so a repeat would count twice.
  const gnocchiUrls = new Set(
    (options.endpoints?.gnocchi ?? SELECTEL_ENDPOINTS.gnocchi).map((url) =>
      url.replace(/\/+$/, ''),
    ),
  );
  const gnocchi = [...gnocchiUrls].map(
    (baseUrl) =>
      new GnocchiClient(http, tokens, {
        baseUrl,
        pageLimit: options.gnocchiPageLimit,
      }),
  );
  const configured = options.endpoints?.quotaManager;
  const quotas: QuotaApi =
    options.quotaApi === 'resell'
      ? new LegacyResellQuotaApi(
          http,
          tokens,
          resellUrl,
          // An empty map lists no region, which means "not set" as it does
          // for the quota manager, not "filter every region out".
          configured && Object.keys(configured).length > 0
            ? Object.keys(configured)
            : undefined,
        )
      : new QuotaManagerApi(
          http,
          tokens,
          memoize(() => resolveQuotaEndpoints(configured, tokens, resell)),
        );
  const secrets =
    credentials.kind === 'apiKey'
      ? [credentials.apiKey]
      : [credentials.password];

  return {
    account: options.account,
    http,
    tokens,
    resell,
    gnocchi,
    quotas,
    secrets,
    close: () => http.close(),
  };
}

/**
 * Finds the quota manager endpoint of each region: the config first, then
 * the Keystone catalog (type `quota-manager`, public interface), then the
 * regions of resell `/capabilities` with Selectel's URL pattern.
 */
async function resolveQuotaEndpoints(
  configured: Readonly<Record<string, string>> | undefined,
  tokens: TokenCache,
  resell: ResellClient,
): Promise<Record<string, string>> {
  if (configured && Object.keys(configured).length > 0)
    return { ...configured };
  const catalog = await tokens.catalog();
  const service = catalog?.find((entry) => entry.type === 'quota-manager');
  const fromCatalog: Record<string, string> = {};
  for (const endpoint of service?.endpoints ?? []) {
    const region = endpoint.region ?? endpoint.region_id;
    if (endpoint.interface === 'public' && region)
      fromCatalog[region] = endpoint.url;
  }
  if (Object.keys(fromCatalog).length > 0) return fromCatalog;
  const capabilities = await resell.capabilities();

  return Object.fromEntries(
    capabilities.regions.map((region) => [
      region.name,
      defaultQuotaManagerUrl(region.name),
    ]),
  );
}

function memoize<T>(load: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;

  return () => {
    value ??= load().catch((error: unknown) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}
