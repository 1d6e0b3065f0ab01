import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Reads a JSON fixture from test/fixtures by relative path. */
export function fixture<T = object>(name: string): T {
  const path = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
