export * from './dynamo-items.js';
export * from './file-items.js';
export * from './items.js';
export * from './store.js';
export * from './types.js';
export * from './queue.js';
