// esbuild options of the Lambda bundles, in one place. serverless-esbuild
// loads this file through `custom.esbuild.config` in serverless.yml and calls
// the exported function. Scripts that build the same bundles with the esbuild
// API import `esbuildOptions` and `functionEntryPoints` from it.
'use strict';

const path = require('node:path');

/**
 * Modules replaced inside the Lambda bundles by smaller stand-ins in
 * lib/bundle/, each of which explains what it leaves out and why. Without
 * them each bundle is about 1.4 MB; with them both stay under 1 MB.
 */
const bundleShims = Object.freeze({
  undici: path.join(__dirname, 'lib/bundle/undici-agent.cjs'),
  '@aws-sdk/credential-provider-node': path.join(
    __dirname,
    'lib/bundle/lambda-credentials.cjs',
  ),
});

/** esbuild plugin that resolves each shimmed module to its stand-in. */
const shimPlugin = Object.freeze({
  name: 'budget-guard-shims',
  setup(build) {
    for (const [name, file] of Object.entries(bundleShims)) {
      const exact = new RegExp(
        `^${name.replace(/[.*+?^${}()|[\]\\/@-]/g, '\\$&')}$`,
      );
      build.onResolve({ filter: exact }, () => ({ path: file }));
    }
  },
});

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
  plugins: Object.freeze([shimPlugin]),
});

/** Returns the serverless-esbuild settings: the options above plus the plugin's own. */
function serverlessEsbuildConfig() {
  return {
    ...esbuildOptions,
    outExtension: { ...esbuildOptions.outExtension },
    mainFields: [...esbuildOptions.mainFields],
    external: [],
    plugins: [...esbuildOptions.plugins],
    // By default the plugin leaves `aws-sdk` (v2) out of the bundle.
    exclude: [],
    outputFileExtension: '.cjs',
    packager: 'npm',
  };
}

module.exports = serverlessEsbuildConfig;
module.exports.esbuildOptions = esbuildOptions;
module.exports.functionEntryPoints = functionEntryPoints;
module.exports.bundleShims = bundleShims;
