import { type Document, isMap, isScalar, parseDocument, visit } from 'yaml';
import { ConfigError } from './errors.js';
import type { Config } from './schema.js';
import { readConfigText, validateConfig } from './validate.js';

export { validateConfig } from './validate.js';

/** Reads, parses and validates a YAML (or JSON) config file. */
export async function loadConfig(file: string): Promise<Config> {
  return parseConfig(await readConfigText(file), file);
}

/** Parses YAML text and validates it; `file` only names the source in errors. */
export function parseConfig(text: string, file = 'budgets.yml'): Config {
  const document = parseDocument(text, {
    prettyErrors: true,
    uniqueKeys: true,
  });
  if (document.errors.length > 0) {
    throw new ConfigError(
      file,
      document.errors.map((error) => ({
        path: '',
        message: oneLine(error.message),
      })),
      'invalid YAML in config',
    );
  }

  const prototypeKey = findPrototypeKey(document);
  if (prototypeKey !== undefined) {
    throw new ConfigError(file, [
      { path: prototypeKey, message: 'unknown key "__proto__"; remove it' },
    ]);
  }
  let data: unknown;
  try {
    data = document.toJS();
  } catch (error) {
    // yaml 2.9 reports neither an alias with no anchor nor an alias bomb
    // while parsing: toJS throws on both (the bomb past maxAliasCount).
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError(
      file,
      [{ path: '', message: oneLine(message) }],
      'invalid YAML in config',
    );
  }

  return validateConfig(data, file);
}

function oneLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/**
 * Returns the path of the object holding a `__proto__` key (empty at the
 * top level), a key that converting the document to objects would drop
 * silently, since it sets the prototype instead.
 */
function findPrototypeKey(document: Document): string | undefined {
  let found: string | undefined;
  visit(document, {
    Pair(_key, pair, path) {
      if (!isScalar(pair.key) || pair.key.value !== '__proto__')
        return undefined;
      const names = path
        .filter((node) => !isMap(node))
        .flatMap((node) =>
          node && 'key' in node && isScalar(node.key)
            ? [String(node.key.value)]
            : [],
        );
      found = names.join('.');
      return visit.BREAK;
    },
  });

  return found;
}
