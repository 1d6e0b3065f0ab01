// Local osls plugin of the budget guard, listed in serverless.yml:
// - the `${budgets:FIELD}` variable reads a top-level field (such as
//   `account`) of the validated budgets file;
// - before every package (and so every deploy), the budgets file and the
//   settings in `custom.budgetGuard` are checked, and an invalid budgets file
//   fails the step with the same message as `budget-guard validate`;
// - the addresses in `custom.budgetGuard.alertEmails` become one
//   AWS::SNS::Subscription each on the alerts topic;
// - the validated budgets are written as JSON to `.budget-guard-build/`,
//   which is what the functions read (their bundles carry no YAML parser);
// - for `serverless invoke local`, the environment is made to work without a
//   deployed stack (see `prepareLocalEnvironment`).
// It makes no AWS calls, so `serverless package` stays offline.
'use strict';

const { createHash } = require('node:crypto');
const { mkdirSync, mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

/** Folder, inside the service directory, of the JSON budgets the functions read. */
const BUILD_DIR = '.budget-guard-build';
/** Path of the packaged JSON budgets, relative to the service directory. */
const PACKAGED_BUDGETS = `${BUILD_DIR}/budgets.json`;

/** Value of a param that is switched off. */
const NONE = 'none';
const SELECTEL_AUTH_MODES = ['apiKey', 'serviceUser'];
// Deliberately loose: SNS sends a confirmation, which is the real check.
const EMAIL_PATTERN = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;
/** SSM name variables, each with the variable that contains the secret in a local run. */
const LOCAL_SECRET_VARIABLES = {
  SELECTEL_API_KEY_PARAM: 'SELECTEL_API_KEY',
  SELECTEL_PASSWORD_PARAM: 'SELECTEL_PASSWORD',
  WEBHOOK_SECRET_PARAM: 'WEBHOOK_SECRET',
};

const customSchema = {
  type: 'object',
  properties: {
    budgetGuard: {
      type: 'object',
      properties: {
        budgetsFile: { type: 'string', minLength: 1 },
        selectelAccount: { type: 'string' },
        selectelAuth: { type: 'string' },
        selectelUsername: { type: 'string' },
        secretParameters: { type: 'array', items: { type: 'string' } },
        secretsKmsKeyArn: { type: 'string' },
        alertEmails: {
          anyOf: [
            { type: 'string' },
            { type: 'array', items: { type: 'string' } },
          ],
        },
        alertsTopicLogicalId: { type: 'string', minLength: 1 },
      },
      required: ['budgetsFile', 'alertsTopicLogicalId'],
      additionalProperties: false,
    },
  },
};

/**
 * Splits a comma-separated list (or takes a YAML list) of email addresses,
 * trimmed and without case-insensitive duplicates; `none` or an empty value
 * gives no addresses. Throws on an address that is not an email address.
 */
function parseAlertEmails(value) {
  const items = Array.isArray(value) ? value : String(value ?? '').split(',');
  const seen = new Set();
  const addresses = [];
  for (const item of items.map((entry) => String(entry).trim())) {
    if (item === '' || item === NONE) continue;
    if (!EMAIL_PATTERN.test(item)) {
      throw new Error(
        `invalid email address "${item}" in the alertEmails param; give comma-separated addresses such as ops@example.com,finance@example.com`,
      );
    }
    const key = item.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    addresses.push(item);
  }

  return addresses;
}

/**
 * Builds one SNS email subscription per address. The logical id comes from a
 * hash of the address, so adding or removing one address leaves the other
 * subscriptions (and their confirmations) in place.
 */
function emailSubscriptionResources(addresses, topicLogicalId) {
  const resources = {};
  for (const address of addresses) {
    const digest = createHash('sha256')
      .update(address.toLowerCase())
      .digest('hex')
      .slice(0, 12);
    resources[`AlertsEmailSubscription${digest}`] = {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        TopicArn: { Ref: topicLogicalId },
        Protocol: 'email',
        Endpoint: address,
      },
    };
  }

  return resources;
}

/**
 * Bundles lib/config/load.ts from source with esbuild and loads it, so the
 * check uses the same validator as the packaged functions even when dist/ is
 * stale or missing.
 */
async function loadValidator(serviceDir) {
  const esbuild = require('esbuild');
  const outDir = mkdtempSync(path.join(tmpdir(), 'budget-guard-validator-'));
  const outFile = path.join(outDir, 'load.cjs');
  try {
    const result = await esbuild.build({
      entryPoints: [path.join(serviceDir, 'lib/config/load.ts')],
      absWorkingDir: serviceDir,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      write: false,
      logLevel: 'silent',
    });
    writeFileSync(outFile, result.outputFiles[0].contents);
    return require(outFile);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

class BudgetGuardPlugin {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options ?? {};
    this.serviceDir = serverless.serviceDir;
    /** Loaded configs by absolute path, so a file is validated once per run. */
    this.configs = new Map();
    this.validator = undefined;
    serverless.configSchemaHandler.defineCustomProperties(customSchema);

    this.configurationVariablesSources = {
      budgets: {
        resolve: async ({ address, resolveVariable }) =>
          this.resolveBudgetsVariable(address, resolveVariable),
      },
    };
    const command = serverless.processedInput?.commands?.join(' ');
    this.hooks = {
      initialize: async () => {
        if (command !== 'invoke local') return;
        this.prepareLocalEnvironment();
        await this.writeLocalBudgets();
      },
      'before:package:initialize': () => this.checkSettings(),
      'before:deploy:function:packageFunction': () => this.checkSettings(),
      'after:package:compileEvents': () => this.addEmailSubscriptions(),
    };
  }

  fail(message) {
    throw new this.serverless.classes.Error(`budget-guard: ${message}`);
  }

  /**
   * Resolves `${budgets:FIELD}` to a top-level scalar of the budgets file.
   * An invalid file resolves to an empty string, so that commands such as
   * `serverless remove` still run. Packaging then fails in `checkSettings`
   * with one message, not one per place that uses the variable.
   */
  async resolveBudgetsVariable(address, resolveVariable) {
    if (!address) {
      this.fail(
        'the budgets variable needs a field, such as ${budgets:account}',
      );
    }
    const file = await resolveVariable('param:budgetsFile');
    let config;
    try {
      config = await this.loadBudgets(String(file));
    } catch (error) {
      if (error instanceof this.serverless.classes.Error) return { value: '' };
      throw error;
    }
    const value = config[address];
    if (value === undefined || (typeof value === 'object' && value !== null)) {
      this.fail(
        `\${budgets:${address}} names no top-level value of the budgets file ${file}; use a field such as account or timezone`,
      );
    }

    return { value };
  }

  /** Loads and validates the budgets file, failing with the validator's message. */
  async loadBudgets(file) {
    const absolute = path.resolve(this.serviceDir, file);
    const relative = path.relative(this.serviceDir, absolute);
    if (
      path.isAbsolute(file) ||
      relative.startsWith('..') ||
      path.isAbsolute(relative)
    ) {
      this.fail(
        `budgetsFile "${file}" must be a path inside the service directory ${this.serviceDir}, because it is packaged at that path`,
      );
    }
    const cached = this.configs.get(absolute);
    if (cached) return cached;
    this.validator ??= await loadValidator(this.serviceDir);
    let config;
    try {
      config = await this.validator.loadConfig(absolute);
    } catch (error) {
      if (error && error.name === 'ConfigError') {
        this.fail(
          `${error.message}\nFix the budgets file (check it with: npx budget-guard validate --config ${file}).`,
        );
      }
      throw error;
    }
    this.configs.set(absolute, config);

    return config;
  }

  settings() {
    return this.serverless.service.custom.budgetGuard;
  }

  /**
   * Writes validated budgets as JSON; the functions validate them again at
   * start, with the same schema.
   */
  writeBudgetsJson(config, relativePath) {
    const absolute = path.join(this.serviceDir, relativePath);
    mkdirSync(path.dirname(absolute), { recursive: true });
    writeFileSync(absolute, `${JSON.stringify(config, null, 2)}\n`);

    return absolute;
  }

  /**
   * Gives a local invoke its JSON budgets: from the file that
   * BUDGET_GUARD_CONFIG names in the shell when it is YAML, otherwise from
   * the budgetsFile param, at the path serverless.yml sets.
   */
  async writeLocalBudgets() {
    const given = process.env.BUDGET_GUARD_CONFIG;
    if (given && given.endsWith('.json')) return;
    if (given) {
      const config = await this.loadLocalBudgets(given);
      process.env.BUDGET_GUARD_CONFIG = this.writeBudgetsJson(
        config,
        `${BUILD_DIR}/local-budgets.json`,
      );
      return;
    }
    const config = await this.loadBudgets(this.settings().budgetsFile);
    this.writeBudgetsJson(config, PACKAGED_BUDGETS);
  }

  /** Loads a budgets file from anywhere, for local runs only. */
  async loadLocalBudgets(file) {
    this.validator ??= await loadValidator(this.serviceDir);
    try {
      return await this.validator.loadConfig(path.resolve(file));
    } catch (error) {
      if (error && error.name === 'ConfigError') this.fail(error.message);
      throw error;
    }
  }

  /** Checks the budgets file and the deploy settings before packaging. */
  async checkSettings() {
    const settings = this.settings();
    const config = await this.loadBudgets(settings.budgetsFile);
    this.writeBudgetsJson(config, PACKAGED_BUDGETS);
    if (
      settings.selectelAccount !== undefined &&
      String(settings.selectelAccount) !== config.account
    ) {
      this.fail(
        `the selectelAccount param (${settings.selectelAccount}) differs from account "${config.account}" in ${settings.budgetsFile}; the functions would refuse to start, so make them equal`,
      );
    }
    if (!SELECTEL_AUTH_MODES.includes(settings.selectelAuth)) {
      this.fail(
        `invalid selectelAuth param "${settings.selectelAuth}"; use apiKey or serviceUser`,
      );
    }
    if (
      settings.selectelAuth === 'serviceUser' &&
      (!settings.selectelUsername || settings.selectelUsername === NONE)
    ) {
      this.fail(
        'selectelAuth is serviceUser but the selectelUsername param is not set; set it to the name of the Selectel service user',
      );
    }
    for (const name of settings.secretParameters ?? []) {
      if (!/^\/[\w.\-/]+$/.test(name)) {
        this.fail(
          `invalid SSM parameter name "${name}"; use a hierarchical name that starts with "/", such as /budget-guard/prod/webhook-secret`,
        );
      }
    }
    const keyArn = settings.secretsKmsKeyArn;
    if (keyArn && keyArn !== NONE && !/^arn:aws[\w-]*:kms:/.test(keyArn)) {
      this.fail(
        `invalid secretsKmsKeyArn param "${keyArn}"; give the ARN of a KMS key (arn:aws:kms:REGION:ACCOUNT:key/ID) or none`,
      );
    }
    try {
      parseAlertEmails(settings.alertEmails);
    } catch (error) {
      this.fail(error.message);
    }
  }

  /**
   * Adjusts the environment of a `serverless invoke local` run, which has no
   * stack behind it. osls would resolve a CloudFormation `Ref` by asking AWS
   * for the stack, and would set serverless.yml's values over the shell's.
   * So a non-empty variable set in the shell or with `--env NAME=VALUE`
   * wins, and a variable whose value is a CloudFormation reference is
   * dropped. Without STATE_TABLE and ALERTS_TOPIC_ARN the functions use the
   * local file store and outbox. An SSM name variable is dropped when the
   * secret itself is set (SELECTEL_API_KEY, SELECTEL_PASSWORD,
   * WEBHOOK_SECRET).
   */
  prepareLocalEnvironment() {
    const { service } = this.serverless;
    const given = new Set(
      Object.keys(process.env).filter((name) => process.env[name] !== ''),
    );
    for (const option of [].concat(this.options.env ?? [])) {
      const [name, ...value] = String(option).split('=');
      if (value.join('=') !== '') given.add(name);
    }
    const environments = [
      service.provider.environment,
      ...Object.values(service.functions ?? {}).map((fn) => fn.environment),
    ].filter((environment) => environment && typeof environment === 'object');
    for (const environment of environments) {
      for (const [name, value] of Object.entries(environment)) {
        const secretVariable = LOCAL_SECRET_VARIABLES[name];
        if (
          given.has(name) ||
          (value !== null && typeof value === 'object') ||
          (secretVariable && given.has(secretVariable))
        ) {
          delete environment[name];
        }
      }
    }
  }

  addEmailSubscriptions() {
    const settings = this.settings();
    const template =
      this.serverless.service.provider.compiledCloudFormationTemplate;
    const topicId = settings.alertsTopicLogicalId;
    const topic = this.serverless.service.resources?.Resources?.[topicId];
    if (!topic || topic.Type !== 'AWS::SNS::Topic') {
      this.fail(
        `custom.budgetGuard.alertsTopicLogicalId names "${topicId}", which is no AWS::SNS::Topic in resources.Resources`,
      );
    }
    let addresses;
    try {
      addresses = parseAlertEmails(settings.alertEmails);
    } catch (error) {
      this.fail(error.message);
    }
    Object.assign(
      template.Resources,
      emailSubscriptionResources(addresses, topicId),
    );
  }
}

module.exports = BudgetGuardPlugin;
module.exports.parseAlertEmails = parseAlertEmails;
module.exports.PACKAGED_BUDGETS = PACKAGED_BUDGETS;
module.exports.emailSubscriptionResources = emailSubscriptionResources;
