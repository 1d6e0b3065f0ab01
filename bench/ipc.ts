import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Message a one-shot child sends when it is done. */
export type ChildOutcome<T> =
  | { type: 'result'; result: T }
  | { type: 'error'; message: string };

/** Path of a compiled script next to this one in dist/bench/. */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

/**
 * Runs a bench script in a fresh Node process with `input` as its only
 * argument (JSON) and resolves with the result it sends over IPC.
 */
export function runChild<T>(
  name: string,
  input: unknown,
  execArgv: string[] = [],
): Promise<T> {
  const child = fork(benchScript(name), [JSON.stringify(input)], {
    execArgv,
  });

  return new Promise<T>((resolve, reject) => {
    let outcome: ChildOutcome<T> | undefined;
    child.on('message', (message: ChildOutcome<T>) => {
      outcome = message;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (outcome?.type === 'result') resolve(outcome.result);
      else if (outcome?.type === 'error')
        reject(new Error(`${name} failed: ${outcome.message}`));
      else
        reject(
          new Error(
            `${name} exited (code ${code}, signal ${signal}) without a result`,
          ),
        );
    });
  });
}

/** Sends the outcome of a one-shot child to its parent, then lets it exit. */
export async function reportOutcome<T>(work: () => Promise<T>): Promise<void> {
  let outcome: ChildOutcome<T>;
  try {
    outcome = { type: 'result', result: await work() };
  } catch (error) {
    outcome = {
      type: 'error',
      message:
        error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
  await new Promise<void>((resolve) => {
    process.send?.(outcome, () => resolve());
  });
  process.exit(outcome.type === 'result' ? 0 : 1);
}

/** Reads the JSON argument that `runChild` passed. */
export function childInput<T>(): T {
  const text = process.argv[2];
  if (!text) throw new Error('missing the JSON input argument');

  return JSON.parse(text) as T;
}

/** A long-running child that replies to `{ id, type }` requests over IPC. */
export class ChildServer {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: { id: number; error?: string }) => {
      const { id, error, ...reply } = message;
      const waiter = this.pending.get(id);
      if (!waiter) return;
      this.pending.delete(id);
      if (error) waiter.reject(new Error(error));
      else waiter.resolve(reply);
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        for (const waiter of this.pending.values()) {
          waiter.reject(new Error(`child exited with code ${code}`));
        }
        this.pending.clear();
        resolve();
      });
    });
  }

  /**
   * Forks `name` with `input` and waits for the message with id 0, which the
   * child sends unrequested once it is ready.
   */
  static async start<R>(
    name: string,
    input: unknown,
  ): Promise<{ server: ChildServer; ready: R }> {
    const server = new ChildServer(
      fork(benchScript(name), [JSON.stringify(input)]),
    );
    const ready = await server.request<R>('ready');

    return { server, ready };
  }

  /** Sends a request and waits for the reply with the same id. */
  request<R>(type: string): Promise<R> {
    const id = type === 'ready' ? 0 : this.nextId++;
    const reply = new Promise<R>((resolve, reject) => {
      this.pending.set(id, {
        resolve: resolve as (value: unknown) => void,
        reject,
      });
    });
    if (type !== 'ready') this.child.send({ id, type });

    return reply;
  }

  async close(): Promise<void> {
    this.child.send({ id: -1, type: 'close' });
    await this.exited;
  }
}
