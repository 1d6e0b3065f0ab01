/**
 * Runs the Selectel simulator in its own process, so that its memory and
 * CPU time are not counted against the check. The parent drives it over
 * IPC. `stats` returns the requests served since the last `reset`, by
 * route, and the simulator's CPU time over the same span.
 */
import { childInput } from './ipc.js';
import { SelectelSimulator, type SimEndpoints } from '../sim/server.js';
import { benchScenario } from './scenario.js';

export interface SimHostInput {
  projects: number;
  runAtMs: number;
  latencyMs: number;
}

export interface SimHostReady {
  url: string;
  endpoints: SimEndpoints;
  account: string;
  apiKey: string;
  /** Time to build the scenario's series and start listening. */
  setupMs: number;
}

export interface SimStats {
  total: number;
  byRoute: Record<string, number>;
  /** Requests that got a status other than 2xx, counted by status. */
  failures: Record<string, number>;
  peakConcurrency: number;
  /** CPU time of the simulator process, user and system, since the reset. */
  cpuMs: number;
}

async function main(): Promise<void> {
  const input = childInput<SimHostInput>();
  const startedMs = performance.now();
  const sim = await SelectelSimulator.start(
    benchScenario(input.projects, input.runAtMs, input.latencyMs),
    { recordBodies: false },
  );
  sim.warmUp();
  let cpuSince = process.cpuUsage();
  const ready: SimHostReady = {
    url: sim.url,
    endpoints: sim.endpoints,
    account: sim.scenario.account,
    apiKey: sim.scenario.apiKey,
    setupMs: performance.now() - startedMs,
  };
  process.send?.({ id: 0, ...ready });

  process.on('message', (message: { id: number; type: string }) => {
    if (message.type === 'reset') {
      sim.clearRequests();
      sim.peakConcurrency = 0;
      cpuSince = process.cpuUsage();
      process.send?.({ id: message.id });
    } else if (message.type === 'stats') {
      process.send?.({ id: message.id, ...stats(sim, cpuSince) });
    } else if (message.type === 'close') {
      void sim.close().then(() => process.exit(0));
    } else {
      process.send?.({
        id: message.id,
        error: `unknown request ${message.type}`,
      });
    }
  });
  // Exit with the parent, so a failed benchmark leaves no simulator behind.
  process.on('disconnect', () => process.exit(0));
}

function stats(sim: SelectelSimulator, cpuSince: NodeJS.CpuUsage): SimStats {
  const byRoute: Record<string, number> = {};
  const failures: Record<string, number> = {};
  for (const record of sim.requests) {
    byRoute[record.route] = (byRoute[record.route] ?? 0) + 1;
    if (record.status < 200 || record.status > 299) {
      failures[record.status] = (failures[record.status] ?? 0) + 1;
    }
  }
  const cpu = process.cpuUsage(cpuSince);

  return {
    total: sim.requests.length,
    byRoute,
    failures,
    peakConcurrency: sim.peakConcurrency,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

main().catch((error: unknown) => {
  console.error(
    `bench simulator failed: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
