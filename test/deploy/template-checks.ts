/**
 * Checks of the CloudFormation template that `serverless package` writes.
 * Each check returns a list of problems (empty when the template is right),
 * so a test can also show that a broken copy of the template is caught.
 */

export interface Template {
  Resources: Record<string, Resource>;
  Conditions?: Record<string, unknown>;
}

export interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  [key: string]: unknown;
}

/** What the packaged template must contain, beyond fixed facts. */
export interface Expected {
  schedule: string;
  alertEmails: string[];
  /** Customer managed key of the SecureStrings; undefined for aws/ssm. */
  secretsKmsKeyArn?: string;
}

/** Logical ids that osls gives the two functions. */
export const FUNCTION_IDS = {
  checkBudgets: 'CheckBudgetsLambdaFunction',
  quotaAction: 'QuotaActionLambdaFunction',
} as const;

const CUT_REQUEST_FILTER = { event: ['budget.cut_requested'] };

/** Pseudo parameters that a `Ref` may name besides resources. */
const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

/** Environment variables that would hold a secret itself, not its SSM name. */
const SECRET_VALUE_VARIABLES = [
  'SELECTEL_API_KEY',
  'SELECTEL_PASSWORD',
  'WEBHOOK_SECRET',
];

/** Runs every check; an empty list means the template is as expected. */
export function checkTemplate(template: Template, expected: Expected) {
  return [
    ...checkReferences(template),
    ...checkFunctions(template),
    ...checkSchedule(template, expected.schedule),
    ...checkHttpRoute(template),
    ...checkSnsSubscriptions(template, expected.alertEmails),
    ...checkTables(template),
    ...checkLogGroups(template),
    ...checkIamWildcards(template),
    ...checkIamGrants(template),
    ...checkSecretsKey(template, expected.secretsKmsKeyArn),
  ];
}

// ---- JSON helpers

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  if (value === undefined) return [];

  return Array.isArray(value) ? value : [value];
}

function sameJson(left: unknown, right: unknown): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

function refTo(id: string) {
  return { Ref: id };
}

function arnOf(id: string) {
  return { 'Fn::GetAtt': [id, 'Arn'] };
}

/** Returns the logical id that a `Ref` or `Fn::GetAtt` value names, if any. */
function targetOf(value: unknown): string | undefined {
  if (!isRecord(value)) return undefined;
  if (typeof value.Ref === 'string') return value.Ref;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];

  return undefined;
}

function resourcesOfType(template: Template, type: string) {
  return Object.entries(template.Resources).filter(
    ([, resource]) => resource.Type === type,
  );
}

function environmentOf(resource: Resource | undefined) {
  const environment = resource?.Properties?.Environment;
  const variables = isRecord(environment) ? environment.Variables : undefined;

  return isRecord(variables) ? variables : {};
}

/** Builds the SSM parameter ARN that serverless.yml builds from a parameter name. */
export function ssmParameterArn(name: string) {
  return {
    'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${name}`,
  };
}

// ---- references

/** Every `Ref` and `Fn::GetAtt` must name a resource, a condition or a pseudo parameter. */
export function checkReferences(template: Template): string[] {
  const problems: string[] = [];
  const visit = (value: unknown, where: string) => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, `${where}[${index}]`));
      return;
    }
    if (!isRecord(value)) return;
    const target = targetOf(value);
    if (
      target !== undefined &&
      !(target in template.Resources) &&
      !PSEUDO_PARAMETERS.has(target)
    ) {
      problems.push(`${where} refers to ${target}, which is not in Resources`);
    }
    for (const [key, child] of Object.entries(value)) {
      visit(child, `${where}.${key}`);
    }
  };
  for (const [id, resource] of Object.entries(template.Resources)) {
    visit(resource, id);
  }

  return problems;
}

// ---- functions

export function checkFunctions(template: Template): string[] {
  const problems: string[] = [];
  for (const id of Object.values(FUNCTION_IDS)) {
    const resource = template.Resources[id];
    if (resource?.Type !== 'AWS::Lambda::Function') {
      problems.push(`function ${id} is missing`);
      continue;
    }
    const properties = resource.Properties ?? {};
    if (properties.Runtime !== 'nodejs22.x') {
      problems.push(
        `${id} runs on ${String(properties.Runtime)}, not nodejs22.x`,
      );
    }
    const environment = environmentOf(resource);
    for (const name of [
      'BUDGET_GUARD_CONFIG',
      'SELECTEL_ACCOUNT',
      'ALERTS_TOPIC_ARN',
      'STATE_TABLE',
    ]) {
      if (environment[name] === undefined) {
        problems.push(`${id} has no ${name} in its environment`);
      }
    }
    const hasSelectelSecret =
      environment.SELECTEL_API_KEY_PARAM !== undefined ||
      (environment.SELECTEL_USERNAME !== undefined &&
        environment.SELECTEL_PASSWORD_PARAM !== undefined);
    if (!hasSelectelSecret) {
      problems.push(
        `${id} has neither SELECTEL_API_KEY_PARAM nor SELECTEL_USERNAME with SELECTEL_PASSWORD_PARAM`,
      );
    }
    for (const name of SECRET_VALUE_VARIABLES) {
      if (environment[name] !== undefined) {
        problems.push(`${id} has the secret value ${name} in its environment`);
      }
    }
  }
  const quotaEnvironment = environmentOf(
    template.Resources[FUNCTION_IDS.quotaAction],
  );
  for (const name of ['IDEMPOTENCY_TABLE', 'WEBHOOK_SECRET_PARAM']) {
    if (quotaEnvironment[name] === undefined) {
      problems.push(`${FUNCTION_IDS.quotaAction} has no ${name}`);
    }
  }

  return problems;
}

// ---- events

export function checkSchedule(template: Template, schedule: string): string[] {
  const rules = resourcesOfType(template, 'AWS::Events::Rule').filter(
    ([, rule]) =>
      asArray(rule.Properties?.Targets).some(
        (target) =>
          isRecord(target) &&
          sameJson(target.Arn, arnOf(FUNCTION_IDS.checkBudgets)),
      ),
  );
  if (rules.length !== 1) {
    return [
      `expected one EventBridge rule targeting ${FUNCTION_IDS.checkBudgets}, found ${rules.length}`,
    ];
  }
  const [ruleId, rule] = rules[0] as [string, Resource];
  const problems: string[] = [];
  if (rule.Properties?.ScheduleExpression !== schedule) {
    problems.push(
      `rule ${ruleId} has schedule ${String(rule.Properties?.ScheduleExpression)}, expected ${schedule}`,
    );
  }
  if (rule.Properties?.State !== 'ENABLED') {
    problems.push(`rule ${ruleId} is not enabled`);
  }
  if (!hasInvokePermission(template, FUNCTION_IDS.checkBudgets, 'events')) {
    problems.push(`EventBridge may not invoke ${FUNCTION_IDS.checkBudgets}`);
  }

  return problems;
}

function hasInvokePermission(
  template: Template,
  functionId: string,
  service: string,
): boolean {
  return resourcesOfType(template, 'AWS::Lambda::Permission').some(
    ([, permission]) =>
      permission.Properties?.Principal === `${service}.amazonaws.com` &&
      targetOf(permission.Properties.FunctionName) === functionId,
  );
}

export function checkHttpRoute(template: Template): string[] {
  const routes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').filter(
    ([, route]) => route.Properties?.RouteKey === 'POST /quota-actions',
  );
  if (routes.length !== 1) {
    return [`expected one route POST /quota-actions, found ${routes.length}`];
  }
  const [routeId, route] = routes[0] as [string, Resource];
  const join = isRecord(route.Properties?.Target)
    ? route.Properties.Target['Fn::Join']
    : undefined;
  const parts = Array.isArray(join) ? asArray(join[1]) : [];
  const integrationId = targetOf(parts[1]);
  const integration =
    integrationId === undefined ? undefined : template.Resources[integrationId];
  const problems: string[] = [];
  if (
    integration?.Type !== 'AWS::ApiGatewayV2::Integration' ||
    !sameJson(
      integration.Properties?.IntegrationUri,
      arnOf(FUNCTION_IDS.quotaAction),
    )
  ) {
    problems.push(
      `route ${routeId} does not lead to ${FUNCTION_IDS.quotaAction}`,
    );
  }
  if (!hasInvokePermission(template, FUNCTION_IDS.quotaAction, 'apigateway')) {
    problems.push(`API Gateway may not invoke ${FUNCTION_IDS.quotaAction}`);
  }

  return problems;
}

/** Returns the logical id of the topic that ALERTS_TOPIC_ARN names. */
function alertsTopicId(template: Template): string | undefined {
  return targetOf(
    environmentOf(template.Resources[FUNCTION_IDS.checkBudgets])
      .ALERTS_TOPIC_ARN,
  );
}

export function checkSnsSubscriptions(
  template: Template,
  alertEmails: string[],
): string[] {
  const topicId = alertsTopicId(template);
  if (
    topicId === undefined ||
    template.Resources[topicId]?.Type !== 'AWS::SNS::Topic'
  ) {
    return ['ALERTS_TOPIC_ARN does not name an SNS topic in the template'];
  }
  const subscriptions = resourcesOfType(
    template,
    'AWS::SNS::Subscription',
  ).filter(([, subscription]) =>
    sameJson(subscription.Properties?.TopicArn, refTo(topicId)),
  );
  const problems: string[] = [];
  const emails = subscriptions
    .filter(([, subscription]) => subscription.Properties?.Protocol === 'email')
    .map(([, subscription]) => String(subscription.Properties?.Endpoint))
    .sort();
  if (!sameJson(emails, [...alertEmails].sort())) {
    problems.push(
      `email subscriptions are ${JSON.stringify(emails)}, expected ${JSON.stringify([...alertEmails].sort())}`,
    );
  }
  const lambdas = subscriptions.filter(
    ([, subscription]) => subscription.Properties?.Protocol === 'lambda',
  );
  if (lambdas.length !== 1) {
    problems.push(
      `expected one lambda subscription on ${topicId}, found ${lambdas.length}`,
    );
    return problems;
  }
  const [subscriptionId, subscription] = lambdas[0] as [string, Resource];
  const properties = subscription.Properties ?? {};
  if (!sameJson(properties.Endpoint, arnOf(FUNCTION_IDS.quotaAction))) {
    problems.push(
      `subscription ${subscriptionId} does not deliver to ${FUNCTION_IDS.quotaAction}`,
    );
  }
  if (!sameJson(properties.FilterPolicy, CUT_REQUEST_FILTER)) {
    problems.push(
      `subscription ${subscriptionId} has filter policy ${JSON.stringify(properties.FilterPolicy)}, expected ${JSON.stringify(CUT_REQUEST_FILTER)}`,
    );
  }
  if (properties.FilterPolicyScope !== 'MessageAttributes') {
    problems.push(
      `subscription ${subscriptionId} filters on ${String(properties.FilterPolicyScope)}, expected MessageAttributes`,
    );
  }
  if (!hasInvokePermission(template, FUNCTION_IDS.quotaAction, 'sns')) {
    problems.push(`SNS may not invoke ${FUNCTION_IDS.quotaAction}`);
  }

  return problems;
}

// ---- tables

interface TableShape {
  variable: string;
  keys: Array<[name: string, keyType: 'HASH' | 'RANGE']>;
  ttlAttribute: string;
}

const TABLES: TableShape[] = [
  {
    variable: 'STATE_TABLE',
    keys: [
      ['pk', 'HASH'],
      ['sk', 'RANGE'],
    ],
    ttlAttribute: 'expiresAt',
  },
  {
    variable: 'IDEMPOTENCY_TABLE',
    keys: [['id', 'HASH']],
    ttlAttribute: 'expiration',
  },
];

/** Checks the tables that the quota-action function's environment names. */
export function checkTables(template: Template): string[] {
  const environment = environmentOf(
    template.Resources[FUNCTION_IDS.quotaAction],
  );
  const problems: string[] = [];
  for (const shape of TABLES) {
    const tableId = targetOf(environment[shape.variable]);
    const table =
      tableId === undefined ? undefined : template.Resources[tableId];
    if (tableId === undefined || table?.Type !== 'AWS::DynamoDB::Table') {
      problems.push(
        `${shape.variable} does not name a DynamoDB table in the template (${String(tableId)})`,
      );
      continue;
    }
    const properties = table.Properties ?? {};
    const keySchema = shape.keys.map(([name, keyType]) => ({
      AttributeName: name,
      KeyType: keyType,
    }));
    if (!sameJson(properties.KeySchema, keySchema)) {
      problems.push(
        `${tableId} has key schema ${JSON.stringify(properties.KeySchema)}`,
      );
    }
    const definitions = shape.keys.map(([name]) => ({
      AttributeName: name,
      AttributeType: 'S',
    }));
    if (!sameJson(properties.AttributeDefinitions, definitions)) {
      problems.push(`${tableId} keys are not all strings`);
    }
    if (properties.BillingMode !== 'PAY_PER_REQUEST') {
      problems.push(`${tableId} is not PAY_PER_REQUEST`);
    }
    const ttl = properties.TimeToLiveSpecification;
    if (
      !isRecord(ttl) ||
      ttl.AttributeName !== shape.ttlAttribute ||
      ttl.Enabled !== true
    ) {
      problems.push(
        `${tableId} has TTL ${JSON.stringify(ttl)}, expected enabled on ${shape.ttlAttribute}`,
      );
    }
    const recovery = properties.PointInTimeRecoverySpecification;
    if (!isRecord(recovery) || recovery.PointInTimeRecoveryEnabled !== true) {
      problems.push(`${tableId} has no point-in-time recovery`);
    }
  }

  return problems;
}

export function checkLogGroups(template: Template): string[] {
  const problems: string[] = [];
  for (const id of Object.values(FUNCTION_IDS)) {
    const logGroupId = id.replace(/LambdaFunction$/, 'LogGroup');
    const logGroup = template.Resources[logGroupId];
    if (logGroup?.Type !== 'AWS::Logs::LogGroup') {
      problems.push(`${id} has no log group ${logGroupId}`);
    } else if (typeof logGroup.Properties?.RetentionInDays !== 'number') {
      problems.push(`${logGroupId} keeps logs forever`);
    }
  }

  return problems;
}

// ---- IAM

interface Statement {
  Effect?: unknown;
  Action?: unknown;
  Resource?: unknown;
  Condition?: unknown;
}

/** Evaluates a condition that compares literals; undefined when it cannot. */
function evaluateCondition(
  template: Template,
  condition: unknown,
): boolean | undefined {
  if (typeof condition === 'string') {
    return evaluateCondition(template, template.Conditions?.[condition]);
  }
  if (!isRecord(condition)) return undefined;
  if (typeof condition.Condition === 'string') {
    return evaluateCondition(template, condition.Condition);
  }
  const equals = condition['Fn::Equals'];
  if (Array.isArray(equals)) {
    const [left, right] = equals as unknown[];
    if (typeof left === 'string' && typeof right === 'string') {
      return left === right;
    }
    return undefined;
  }
  const not = condition['Fn::Not'];
  if (Array.isArray(not)) {
    const inner = evaluateCondition(template, not[0]);
    return inner === undefined ? undefined : !inner;
  }

  return undefined;
}

/** Lists the statements of a policy document, with `Fn::If` resolved where possible. */
function statementsOf(template: Template, document: unknown): Statement[] {
  const statements: Statement[] = [];
  const add = (value: unknown) => {
    if (!isRecord(value)) return;
    const branches = value['Fn::If'];
    if (Array.isArray(branches)) {
      const [condition, whenTrue, whenFalse] = branches as unknown[];
      const result = evaluateCondition(template, condition);
      if (result !== false) add(whenTrue);
      if (result !== true) add(whenFalse);
      return;
    }
    if (value.Ref === 'AWS::NoValue') return;
    statements.push(value);
  };
  for (const value of asArray(
    isRecord(document) ? document.Statement : undefined,
  )) {
    add(value);
  }

  return statements;
}

/** Lists every IAM statement in the template with the role or policy that contains it. */
export function iamStatements(template: Template) {
  const found: Array<{ owner: string; statement: Statement }> = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    const documents: unknown[] = [];
    if (resource.Type === 'AWS::IAM::Role') {
      for (const policy of asArray(resource.Properties?.Policies)) {
        if (isRecord(policy)) documents.push(policy.PolicyDocument);
      }
    } else if (
      resource.Type === 'AWS::IAM::Policy' ||
      resource.Type === 'AWS::IAM::ManagedPolicy'
    ) {
      documents.push(resource.Properties?.PolicyDocument);
    }
    for (const document of documents) {
      for (const statement of statementsOf(template, document)) {
        found.push({ owner: id, statement });
      }
    }
  }

  return found;
}

/** Returns the text of an ARN written as a string, `Fn::Sub` or `Fn::Join`. */
function arnText(resource: unknown): string | undefined {
  if (typeof resource === 'string') return resource;
  if (!isRecord(resource)) return undefined;
  const sub = resource['Fn::Sub'];
  if (typeof sub === 'string') return sub;
  if (Array.isArray(sub) && typeof sub[0] === 'string') return sub[0];
  const join = resource['Fn::Join'];
  if (Array.isArray(join)) {
    return asArray(join[1])
      .map((part) => (typeof part === 'string' ? part : '<ref>'))
      .join(String(join[0]));
  }

  return undefined;
}

/**
 * Log stream names are not known in advance, so `:*` after a named log
 * group (or its `log-stream:*`) is the only wildcard allowed in a resource.
 */
const LOG_STREAM_WILDCARD = /:log-group:[^*]+:(?:log-stream:)?\*$/;

/** No statement may grant `*`, a wildcard action or a wildcard ARN. */
export function checkIamWildcards(template: Template): string[] {
  const problems: string[] = [];
  for (const { owner, statement } of iamStatements(template)) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of asArray(statement.Action)) {
      if (typeof action === 'string' && action.includes('*')) {
        problems.push(`${owner} allows the wildcard action ${action}`);
      }
    }
    if (statement.Resource === undefined) {
      problems.push(`${owner} has a statement without Resource`);
    }
    for (const resource of asArray(statement.Resource)) {
      const text = arnText(resource);
      if (text === '*') {
        problems.push(
          `${owner} grants ${JSON.stringify(statement.Action)} on Resource "*"`,
        );
      } else if (text?.includes('*') && !LOG_STREAM_WILDCARD.test(text)) {
        problems.push(`${owner} grants the wildcard ARN ${text}`);
      }
    }
  }

  return problems;
}

function roleOf(template: Template, functionId: string): string | undefined {
  return targetOf(template.Resources[functionId]?.Properties?.Role);
}

function grants(
  template: Template,
  roleId: string,
  action: string,
  resource: unknown,
): boolean {
  return iamStatements(template).some(
    ({ owner, statement }) =>
      owner === roleId &&
      statement.Effect === 'Allow' &&
      asArray(statement.Action).includes(action) &&
      asArray(statement.Resource).some((granted) =>
        sameJson(granted, resource),
      ),
  );
}

const TABLE_ACTIONS: Record<string, string[]> = {
  STATE_TABLE: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:DeleteItem',
    'dynamodb:Query',
  ],
  IDEMPOTENCY_TABLE: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ],
};

/**
 * Each function's role must grant what its code calls on the very resources
 * its environment names: the tables, the topic, the SSM parameters and its
 * log group.
 */
export function checkIamGrants(template: Template): string[] {
  const problems: string[] = [];
  for (const functionId of Object.values(FUNCTION_IDS)) {
    const roleId = roleOf(template, functionId);
    if (roleId === undefined || !(roleId in template.Resources)) {
      problems.push(`${functionId} has no role in the template`);
      continue;
    }
    const required: Array<[action: string, resource: unknown]> = [];
    const environment = environmentOf(template.Resources[functionId]);
    for (const [variable, actions] of Object.entries(TABLE_ACTIONS)) {
      const tableId = targetOf(environment[variable]);
      if (tableId === undefined) continue;
      for (const action of actions) required.push([action, arnOf(tableId)]);
    }
    const topicId = targetOf(environment.ALERTS_TOPIC_ARN);
    if (topicId !== undefined) required.push(['sns:Publish', refTo(topicId)]);
    for (const [variable, value] of Object.entries(environment)) {
      if (variable.endsWith('_PARAM') && typeof value === 'string') {
        required.push(['ssm:GetParameter', ssmParameterArn(value)]);
      }
    }
    const logGroupId = functionId.replace(/LambdaFunction$/, 'LogGroup');
    required.push(['logs:PutLogEvents', arnOf(logGroupId)]);
    for (const [action, resource] of required) {
      if (!grants(template, roleId, action, resource)) {
        problems.push(
          `${roleId} does not grant ${action} on ${JSON.stringify(resource)}`,
        );
      }
    }
  }

  return problems;
}

/**
 * With a customer managed key, each role may decrypt with that key only
 * through SSM. With the AWS managed key aws/ssm, whose key policy already
 * admits the account's principals through SSM, no role gets a KMS statement.
 */
export function checkSecretsKey(
  template: Template,
  keyArn: string | undefined,
): string[] {
  const problems: string[] = [];
  const kmsStatements = iamStatements(template).filter(({ statement }) =>
    asArray(statement.Action).some(
      (action) => typeof action === 'string' && action.startsWith('kms:'),
    ),
  );
  if (keyArn === undefined) {
    for (const { owner } of kmsStatements) {
      problems.push(`${owner} has a KMS statement, but no key is configured`);
    }
    return problems;
  }
  for (const functionId of Object.values(FUNCTION_IDS)) {
    const roleId = roleOf(template, functionId);
    const statement = kmsStatements.find(({ owner }) => owner === roleId);
    if (!statement) {
      problems.push(`${String(roleId)} may not decrypt with ${keyArn}`);
      continue;
    }
    if (!sameJson(statement.statement.Resource, keyArn)) {
      problems.push(
        `${String(roleId)} decrypts with ${JSON.stringify(statement.statement.Resource)}, expected ${keyArn}`,
      );
    }
    const condition = statement.statement.Condition;
    const viaService =
      isRecord(condition) && isRecord(condition.StringEquals)
        ? condition.StringEquals['kms:ViaService']
        : undefined;
    if (viaService === undefined) {
      problems.push(
        `${String(roleId)} may decrypt outside SSM: no kms:ViaService condition`,
      );
    }
  }

  return problems;
}
