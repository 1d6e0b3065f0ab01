import { MockAgent } from 'undici';
import type { Log } from '../../lib/log.js';
import { SelectelHttp } from '../../lib/selectel/http.js';

/** A MockAgent with the network disabled, and an HTTP client that records its sleeps. */
export function mockHttp(
  options: { random?: () => number; now?: () => number } = {},
) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const sleeps: number[] = [];
  const http = new SelectelHttp({
    dispatcher: agent,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: options.random ?? (() => 0.5),
    now: options.now,
  });

  return { agent, http, sleeps };
}

/** A logger that keeps every line, serialized, for assertions. */
export function recordingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  const write =
    (level: string) =>
    (message: string, attributes?: Record<string, unknown>) => {
      lines.push(
        JSON.stringify({ level, message, ...attributes }, errorReplacer),
      );
    };

  return {
    lines,
    debug: write('DEBUG'),
    info: write('INFO'),
    warn: write('WARN'),
    error: write('ERROR'),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return {
      name: value.name,
      message: value.message,
      stack: value.stack,
      cause: value.cause,
    };
  }

  return value;
}
