import { type CliIo, main } from '../../lib/cli/main.js';

/** Exit status and captured output of one CLI run. */
export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI entry point `main` in-process and captures stdout and stderr. */
export async function runMain(
  args: string[],
  io: Omit<CliIo, 'stdout' | 'stderr'>,
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const status = await main(args, {
    ...io,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });

  return { status, stdout, stderr };
}
