import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SIGNATURE_HEADER, signatureHeader } from '../webhook/signature.js';
import { UsageError } from '../wiring/credentials.js';
import type { CommandContext } from './main.js';

/**
 * `budget-guard sign`: signs a webhook body with `WEBHOOK_SECRET` and prints
 * the header, or a whole curl command when `--url` is given.
 */
export async function signCommand(context: CommandContext): Promise<number> {
  const secret = context.io.env.WEBHOOK_SECRET;
  if (!secret)
    throw new UsageError(
      'WEBHOOK_SECRET is not set; export the shared webhook secret first',
    );
  const bodyOption = context.options.body;
  if (typeof bodyOption !== 'string') {
    throw new UsageError(
      '--body is required: give the JSON body, or @FILE to read it from a file',
    );
  }
  const body = bodyOption.startsWith('@')
    ? await readBodyFile(resolve(context.io.cwd, bodyOption.slice(1)))
    : bodyOption;
  try {
    JSON.parse(body);
  } catch {
    throw new UsageError(
      '--body is not valid JSON; give a body such as {"action":"status","project":"NAME"}',
    );
  }
  const time = context.options.time;
  const timestamp =
    typeof time === 'string'
      ? Number(time)
      : Math.floor((context.io.now ?? Date.now)() / 1000);
  if (!Number.isInteger(timestamp) || timestamp <= 0)
    throw new UsageError('--time must be a Unix time in seconds');
  // WEBHOOK_SECRET may hold the new and the old secret during a rotation,
  // separated by a comma, as the function reads it; the first one signs.
  const signing = secret.split(',')[0]?.trim() ?? '';
  const header = signatureHeader(signing, timestamp, body);
  const url = context.options.url;
  if (context.json) {
    context.printJson({
      header: SIGNATURE_HEADER,
      value: header,
      body,
      ...(typeof url === 'string' ? { url } : {}),
    });
  } else if (typeof url === 'string') {
    context.print(
      `curl -sS -X POST ${shellQuote(url)} -H 'content-type: application/json' -H ${shellQuote(`X-Budget-Guard-Signature: ${header}`)} --data-binary ${shellQuote(body)}`,
    );
  } else {
    context.print(`X-Budget-Guard-Signature: ${header}`);
  }

  return 0;
}

async function readBodyFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `--body file ${path} not found; give the path of a JSON file after @`
        : `cannot read the --body file ${path} (${code ?? String(error)})`,
    );
  }
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
