#!/usr/bin/env node
// Runs the compiled CLI; `npm install` builds dist/ through the prepare script.
import { run } from '../dist/lib/cli/main.js';

await run();
