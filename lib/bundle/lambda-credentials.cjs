// Stands in for `@aws-sdk/credential-provider-node` inside the Lambda bundles
// (see esbuild.config.cjs). Lambda hands every function its role's
// credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN, so the environment provider is the whole chain there;
// the SSO, INI, process and web-identity providers it replaces take about
// 120 KB of each bundle.
'use strict';

const { fromEnv } = require('@aws-sdk/credential-provider-env');

/** Same rule as the SDK's default chain: refresh within 5 minutes of expiry. */
const credentialsTreatedAsExpired = (credentials) =>
  credentials?.expiration !== undefined &&
  credentials.expiration.getTime() - Date.now() < 300_000;
const credentialsWillNeedRefresh = (credentials) =>
  credentials?.expiration !== undefined;

module.exports = {
  defaultProvider: (init = {}) => fromEnv(init),
  credentialsTreatedAsExpired,
  credentialsWillNeedRefresh,
};
