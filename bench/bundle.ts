import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Metafile } from 'esbuild';

/** Root of the repository, from dist/bench/ where this file runs. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The exports of esbuild.config.cjs that scripts share with serverless-esbuild. */
interface SharedBuildConfig {
  esbuildOptions: BuildOptions;
  /** Handler source per function, keyed by its name in serverless.yml. */
  functionEntryPoints: Record<string, string>;
}

/** Largest minified bundle the project accepts for one function. */
export const BUNDLE_LIMIT_BYTES = 1_000_000;

export interface BundleFigures {
  /** The function's name in serverless.yml. */
  name: string;
  /** Path of the bundle, for the cold-start runs. */
  path: string;
  bytes: number;
  gzipBytes: number;
  sourceMapBytes: number;
  /** Bytes of the minified output that each package contributes, largest first. */
  largestInputs: { name: string; bytes: number }[];
}

/**
 * Loads the esbuild options and entry points from esbuild.config.cjs, the
 * module serverless.yml gives serverless-esbuild, so the benchmark measures
 * the bundles that `serverless package` builds.
 */
export function sharedBuildConfig(): SharedBuildConfig {
  const require = createRequire(import.meta.url);

  return require(join(REPO_ROOT, 'esbuild.config.cjs')) as SharedBuildConfig;
}

/** Bundles each handler into `outdir` with the shared options. */
export async function buildBundles(outdir: string): Promise<BundleFigures[]> {
  const { esbuildOptions, functionEntryPoints } = sharedBuildConfig();
  const result = await build({
    ...esbuildOptions,
    // The shared options are frozen, so esbuild gets copies of the arrays.
    ...(esbuildOptions.mainFields
      ? { mainFields: [...esbuildOptions.mainFields] }
      : {}),
    ...(esbuildOptions.external
      ? { external: [...esbuildOptions.external] }
      : {}),
    absWorkingDir: REPO_ROOT,
    entryPoints: { ...functionEntryPoints },
    outdir,
    metafile: true,
    logLevel: 'warning',
  });
  const files = await readdir(outdir);
  const figures: BundleFigures[] = [];
  for (const name of Object.keys(functionEntryPoints)) {
    const file = files.find(
      (entry) => entry.startsWith(`${name}.`) && !entry.endsWith('.map'),
    );
    if (!file) throw new Error(`esbuild wrote no bundle for ${name}`);
    const path = join(outdir, file);
    const code = await readFile(path);
    const map = await readFile(`${path}.map`);
    figures.push({
      name,
      path,
      bytes: code.length,
      gzipBytes: gzipSync(code).length,
      sourceMapBytes: map.length,
      largestInputs: largestInputs(result.metafile, file),
    });
  }

  return figures;
}

/** Sums the output bytes of each npm package or project folder in one bundle. */
function largestInputs(
  metafile: Metafile,
  file: string,
): { name: string; bytes: number }[] {
  const output = Object.entries(metafile.outputs).find(([path]) =>
    path.endsWith(`/${file}`),
  )?.[1];
  const totals = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(
    output?.inputs ?? {},
  )) {
    const key = packageOf(input);
    totals.set(key, (totals.get(key) ?? 0) + bytesInOutput);
  }

  return [...totals]
    .map(([input, bytes]) => ({ name: input, bytes }))
    .sort((a, b) => b.bytes - a.bytes);
}

function packageOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (match?.[1]) return match[1];

  return input.split('/').slice(0, 2).join('/');
}
