export * from './budgets.js';
export * from './errors.js';
export * from './json.js';
export * from './load.js';
export * from './validate.js';
export * from './schema.js';
