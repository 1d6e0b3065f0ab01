// esbuild options of the Lambda bundles, in one place. serverless-esbuild
// loads this file through `custom.esbuild.config` in serverless.yml and calls
// the exported function. Scripts that build the same bundles with the esbuild
// API import `esbuildOptions` and `functionEntryPoints` from it.
'use strict';

/**
 * Handler source of each function, keyed by its name in serverless.yml.
 * test/deploy checks that these match the handlers in the packaged template.
 */
const functionEntryPoints = Object.freeze({
  checkBudgets: 'functions/check-budgets.ts',
  quotaAction: 'functions/quota-action.ts',
});

/**
 * Options of esbuild's `build()` for every function bundle. Everything is
 * bundled, the AWS SDK v3 included, because the runtime's copy may differ
 * from the locked versions. The output is minified CommonJS for Node 20 and
 * later, with external source maps that Lambda applies through
 * `--enable-source-maps` (set in serverless.yml).
 */
const esbuildOptions = Object.freeze({
  bundle: true,
  minify: true,
  sourcemap: true,
  // Stack traces need only the mappings, and the sources would double the zip.
  sourcesContent: false,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // `.cjs`, because package.json sets "type": "module", so a `.js` bundle
  // run inside the repository (`serverless invoke local`) would load as ESM.
  outExtension: Object.freeze({ '.js': '.cjs' }),
  // The AWS SDK's ES module builds tree-shake better: about 20% smaller bundles.
  mainFields: Object.freeze(['module', 'main']),
  external: Object.freeze([]),
});

/** Returns the serverless-esbuild settings: the options above plus the plugin's own. */
function serverlessEsbuildConfig() {
  return {
    ...esbuildOptions,
    outExtension: { ...esbuildOptions.outExtension },
    mainFields: [...esbuildOptions.mainFields],
    external: [],
    // By default the plugin leaves `aws-sdk` (v2) out of the bundle.
    exclude: [],
    outputFileExtension: '.cjs',
    packager: 'npm',
  };
}

module.exports = serverlessEsbuildConfig;
module.exports.esbuildOptions = esbuildOptions;
module.exports.functionEntryPoints = functionEntryPoints;
