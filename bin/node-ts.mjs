#!/usr/bin/env node
// Runs a TypeScript entry point with tsx's loader (no build step needed).
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
register();
const entry = process.argv[2];
if (!entry) { console.error('usage: node bin/node-ts.mjs <file.ts> [args…]'); process.exit(1); }
process.argv.splice(1, 1);
await import(pathToFileURL(path.resolve(entry)).href);
