import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { parseScenario } from './scenario.js';
import { SelectelSimulator } from './server.js';

const USAGE = `usage: npm run sim -- [--scenario FILE] [--port N]

Starts the Selectel simulator on 127.0.0.1 and prints its base URL and the
endpoints to put in a budget-guard config.
  --scenario FILE  scenario in YAML or JSON (default: an empty account)
  --port N         port to listen on (default: a free port)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(
      `invalid --port ${values.port}: give a number from 0 to 65535`,
    );
  }
  const scenario: unknown = values.scenario
    ? parseYaml(await readScenario(values.scenario))
    : {};
  const sim = await SelectelSimulator.start(parseScenario(scenario ?? {}), {
    port,
  });
  console.log(sim.url);
  console.log(JSON.stringify({ endpoints: sim.endpoints }, null, 2));
  const stop = () => {
    void sim.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function readScenario(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `scenario file ${path} not found; give the path of a YAML or JSON scenario, such as examples/local-scenario.yml`
        : `cannot read the scenario file ${path} (${code ?? String(error)})`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(
    `budget-guard simulator: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(2);
});
