import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signatureHeader } from '../lib/webhook/signature.js';
import type { BundleFigures } from './bundle.js';
import { ChildServer } from './ipc.js';
import { benchConfig, projectName } from './scenario.js';
import type { SimHostInput, SimHostReady } from './sim-host.js';

/** Projects in the account the cold-start check reads. */
export const COLD_START_PROJECTS = 10;
/** Function names as serverless.yml and esbuild.config.cjs give them. */
const CHECK_FUNCTION = 'checkBudgets';
const QUOTA_FUNCTION = 'quotaAction';
const WEBHOOK_SECRET = 'bench-webhook-secret';

/**
 * CommonJS `node -e` script that loads a bundle and calls its handler once.
 * It prints the times since process start (Node's `performance.timeOrigin`)
 * on a `BENCH_RESULT` line, then exits without waiting for open sockets.
 */
const DRIVER = `
const startMs = performance.now();
const bundle = require(process.env.BENCH_BUNDLE);
const loadedMs = performance.now();
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-central-1:000000000000:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME,
  memoryLimitInMB: '1024',
  awsRequestId: process.env.BENCH_REQUEST_ID,
  logGroupName: '/aws/lambda/' + process.env.AWS_LAMBDA_FUNCTION_NAME,
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => 60000,
  done() {}, fail() {}, succeed() {},
};
const finish = (outcome) => {
  const doneMs = performance.now();
  const line = JSON.stringify({ ...outcome, startMs, loadMs: loadedMs - startMs, handlerMs: doneMs - loadedMs, doneMs });
  process.stdout.write('\\nBENCH_RESULT ' + line + '\\n', () => process.exit(outcome.ok ? 0 : 1));
};
bundle.handler(JSON.parse(process.env.BENCH_EVENT), context).then(
  (result) => finish({ ok: true, result }),
  (error) => finish({ ok: false, error: String((error && error.stack) || error) }),
);
`;

/** Times of one process run, in milliseconds. */
export interface ProcessTimes {
  /** From `spawn` in the parent to the child's exit. */
  wallMs: number;
  /** From process start to the first line of the script. */
  startMs: number;
  /** `require` of the bundle. */
  loadMs: number;
  /** The first handler call. */
  handlerMs: number;
  /** From process start to the end of the first handler call. */
  doneMs: number;
}

export interface ColdStartResult {
  runs: number;
  /** `node -e ''` from spawn to exit. */
  bareNodeMs: number[];
  functions: {
    name: string;
    times: ProcessTimes[];
    /** Problems found in the handler results, one line per run that went wrong. */
    problems: string[];
  }[];
}

/**
 * Starts a small simulator in its own process and runs each bundle `runs`
 * times in a fresh `node` process, alternating with a bare `node -e ''`,
 * so that all three see the same machine load.
 */
export async function measureColdStarts(
  bundles: BundleFigures[],
  runs: number,
  stateRoot: string,
): Promise<ColdStartResult> {
  const hostInput: SimHostInput = {
    projects: COLD_START_PROJECTS,
    runAtMs: Date.now(),
    latencyMs: 0,
  };
  const { server, ready } = await ChildServer.start<SimHostReady>(
    'sim-host',
    hostInput,
  );
  const workDir = await mkdtemp(join(stateRoot, 'budget-guard-cold-'));
  try {
    // The functions read the JSON budgets that the package step writes.
    const configPath = join(workDir, 'budgets.json');
    await writeFile(
      configPath,
      JSON.stringify(
        benchConfig(ready.account, ready.endpoints, COLD_START_PROJECTS, 3600),
      ),
    );
    const result: ColdStartResult = {
      runs,
      bareNodeMs: [],
      functions: bundles.map((bundle) => ({
        name: bundle.name,
        times: [],
        problems: [],
      })),
    };
    for (let run = 1; run <= runs; run++) {
      result.bareNodeMs.push((await runNode(['-e', ''], {})).wallMs);
      for (const [index, bundle] of bundles.entries()) {
        const stateDir = join(workDir, `state-${bundle.name}-${run}`);
        const outcome = await runFunction(bundle, {
          ...functionEnv(bundle.name, configPath, stateDir, ready.apiKey),
          BENCH_EVENT: JSON.stringify(functionEvent(bundle.name)),
        });
        const entry = result.functions[index];
        entry?.times.push(outcome.times);
        const problem = verify(bundle.name, outcome.output);
        if (problem) entry?.problems.push(`run ${run}: ${problem}`);
      }
    }

    return result;
  } finally {
    await rm(workDir, { recursive: true, force: true });
    await server.close();
  }
}

function functionEnv(
  name: string,
  configPath: string,
  stateDir: string,
  apiKey: string,
): Record<string, string> {
  return {
    // As serverless.yml sets it for both functions.
    NODE_OPTIONS: '--enable-source-maps',
    POWERTOOLS_SERVICE_NAME: 'budget-guard',
    AWS_LAMBDA_FUNCTION_NAME: `budget-guard-dev-${name}`,
    BENCH_REQUEST_ID: randomUUID(),
    BUDGET_GUARD_CONFIG: configPath,
    BUDGET_GUARD_STATE_DIR: stateDir,
    SELECTEL_API_KEY: apiKey,
    WEBHOOK_SECRET,
  };
}

/** Builds a scheduled event for the check, or a signed `status` request for quota actions. */
function functionEvent(name: string): unknown {
  if (name !== CHECK_FUNCTION && name !== QUOTA_FUNCTION) {
    throw new Error(
      `no benchmark event for function ${name}; expected ${CHECK_FUNCTION} or ${QUOTA_FUNCTION}`,
    );
  }
  if (name === CHECK_FUNCTION) {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: new Date().toISOString(),
      region: 'eu-central-1',
      resources: [],
      detail: {},
    };
  }
  const body = JSON.stringify({
    action: 'status',
    project: projectName(0),
    requestId: `bench-${randomUUID()}`,
  });
  const nowMs = Date.now();

  return {
    version: '2.0',
    routeKey: 'POST /quota-actions',
    rawPath: '/quota-actions',
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      'x-budget-guard-signature': signatureHeader(
        WEBHOOK_SECRET,
        Math.floor(nowMs / 1000),
        body,
      ),
    },
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'localhost',
      domainPrefix: 'bench',
      http: {
        method: 'POST',
        path: '/quota-actions',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'budget-guard-bench',
      },
      requestId: randomUUID(),
      routeKey: 'POST /quota-actions',
      stage: '$default',
      time: new Date(nowMs).toUTCString(),
      timeEpoch: nowMs,
    },
    body,
    isBase64Encoded: false,
  };
}

/** Names what is wrong with a handler's result, or returns undefined. */
function verify(name: string, output: DriverOutput): string | undefined {
  if (!output.ok) {
    return `the handler failed: ${output.error?.split('\n')[0] ?? 'no error given'}`;
  }
  const result = output.result as Record<string, unknown> | undefined;
  if (name === CHECK_FUNCTION) {
    return result?.projects === COLD_START_PROJECTS && result.errors === 0
      ? undefined
      : `unexpected result ${JSON.stringify(result)}`;
  }

  return result?.statusCode === 200
    ? undefined
    : `unexpected response ${JSON.stringify(result).slice(0, 300)}`;
}

interface DriverOutput {
  ok: boolean;
  result?: unknown;
  error?: string;
  startMs: number;
  loadMs: number;
  handlerMs: number;
  doneMs: number;
}

async function runFunction(
  bundle: BundleFigures,
  env: Record<string, string>,
): Promise<{ times: ProcessTimes; output: DriverOutput }> {
  const { wallMs, stdout, stderr } = await runNode(['-e', DRIVER], {
    ...env,
    BENCH_BUNDLE: bundle.path,
  });
  const line = stdout
    .split('\n')
    .find((text) => text.startsWith('BENCH_RESULT '));
  if (!line) {
    throw new Error(
      `${bundle.name} printed no result; stderr: ${stderr.slice(0, 500)}`,
    );
  }
  const output = JSON.parse(line.slice('BENCH_RESULT '.length)) as DriverOutput;

  return {
    times: {
      wallMs,
      startMs: output.startMs,
      loadMs: output.loadMs,
      handlerMs: output.handlerMs,
      doneMs: output.doneMs,
    },
    output,
  };
}

/**
 * Runs `node ARGS` with only PATH, HOME and `env` in its environment, and
 * times it from spawn to exit.
 */
function runNode(
  args: string[],
  env: Record<string, string>,
): Promise<{ wallMs: number; stdout: string; stderr: string }> {
  const startedMs = performance.now();
  const child = spawn(process.execPath, args, {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });

  return new Promise((resolve, reject) => {
    child.once('error', reject);
    let wallMs = 0;
    child.once('exit', () => {
      wallMs = performance.now() - startedMs;
    });
    // 'close' comes after the output streams end, so nothing printed is lost.
    child.once('close', () => resolve({ wallMs, stdout, stderr }));
  });
}
