import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../lib/config/schema.js';

/** The shipped JSON Schema of budgets.yml, relative to the package root. */
export const SCHEMA_FILE = 'schema/budgets.schema.json';

/** Line width of the repository's formatter (biome.json). */
const LINE_WIDTH = 80;

/** An array of strings, numbers, booleans or nulls, one item a line. */
const PRIMITIVE_ARRAY =
  /^( *)("[^"\n]*": )?\[\n((?: *(?:"[^"\n]*"|[-+.\deE]+|true|false|null),?\n)+) *\](,?)$/gm;

/**
 * Renders the config's JSON Schema as the exact text of the shipped file,
 * laid out as Biome formats JSON: objects expanded, and an array of plain
 * values on one line when that line fits the width.
 */
export function renderConfigSchema(): string {
  const expanded = JSON.stringify(configJsonSchema(), null, 2);
  const text = expanded.replace(
    PRIMITIVE_ARRAY,
    (whole, indent: string, key = '', items: string, comma: string) => {
      const values = items
        .trim()
        .split('\n')
        .map((item) => item.trim().replace(/,$/, ''));
      const line = `${indent}${key}[${values.join(', ')}]${comma}`;

      return line.length <= LINE_WIDTH ? line : whole;
    },
  );

  return `${text}\n`;
}

/**
 * Writes the JSON Schema generated from the zod config schema, so editors
 * can check budgets.yml. Usage: `npm run schema` from the package root, or
 * `node dist/scripts/write-schema.js [FILE]`.
 */
async function writeSchema(file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, renderConfigSchema());
  console.log(`wrote ${file}`);
}

// Runs only when started as a program, so tests can import the renderer.
const started = process.argv[1] ? resolve(process.argv[1]) : '';
if (started === fileURLToPath(import.meta.url)) {
  writeSchema(resolve(process.argv[2] ?? SCHEMA_FILE)).catch(
    (error: unknown) => {
      console.error(
        `writing the JSON Schema failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      process.exitCode = 1;
    },
  );
}
