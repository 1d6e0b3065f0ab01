export * from './local.js';
export * from './port.js';
export * from './subject.js';
