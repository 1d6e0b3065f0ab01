import type { Log } from '../../lib/log.js';
import {
  createSelectelClient,
  type SelectelClientOptions,
} from '../../lib/selectel/index.js';
import { SelectelSimulator } from '../../sim/server.js';
import type { ScenarioInput } from '../../sim/scenario.js';

/** Starts a simulator and a client wired to it with recorded, instant sleeps. */
export async function startSim(
  scenario: ScenarioInput,
  options: Partial<SelectelClientOptions> & { log?: Log } = {},
) {
  const sim = await SelectelSimulator.start(scenario);
  const sleeps: number[] = [];
  const client = createSelectelClient({
    account: sim.scenario.account,
    credentials: { kind: 'apiKey', apiKey: sim.scenario.apiKey },
    endpoints: sim.endpoints,
    ...options,
    http: {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      ...options.http,
    },
  });

  return {
    sim,
    client,
    sleeps,
    async close() {
      await client.close();
      await sim.close();
    },
  };
}

/** Projects named `p0001`… with one hourly cost series each. */
export function manyProjects(count: number, kopecksPerHour = 100) {
  return Array.from({ length: count }, (_, index) => ({
    name: `p${String(index).padStart(4, '0')}`,
    costs: { generate: { from: 'now-2d', to: 'now', kopecksPerHour } },
  }));
}
