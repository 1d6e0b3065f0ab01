// Stands in for `undici` inside the Lambda bundles (see esbuild.config.cjs).
// The package's entry loads fetch, WebSocket, caches and mocks, about 230 KB
// minified that the functions never use; the code needs only `Agent` and the
// request API that the entry adds to every dispatcher.
'use strict';

const Dispatcher = require('undici/lib/dispatcher/dispatcher');
const api = require('undici/lib/api');
const Agent = require('undici/lib/dispatcher/agent');
const errors = require('undici/lib/core/errors');

Object.assign(Dispatcher.prototype, api);

module.exports = { Agent, Dispatcher, errors };
