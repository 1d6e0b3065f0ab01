import { readFile, writeFile } from 'node:fs/promises';

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

/**
 * Writes a rendered report into the results block of a Markdown file, between
 * the two markers. The report's top-level heading is dropped and every other
 * heading moves one level deeper. The text around the block is kept.
 * Throws when the markers are missing or out of order, so no text is lost.
 */
export async function writeResults(
  path: string,
  report: string,
): Promise<void> {
  const text = await readFile(path, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) {
    throw new Error(
      `${path} has no ${START} … ${END} block. Add the two markers where the results go.`,
    );
  }
  const body = report
    .split('\n')
    .filter((line) => !line.startsWith('# '))
    .map((line) => (line.startsWith('#') ? `#${line}` : line))
    .join('\n')
    .trim();

  await writeFile(
    path,
    `${text.slice(0, start + START.length)}\n${body}\n${text.slice(end)}`,
  );
}
