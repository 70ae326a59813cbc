#!/usr/bin/env node
// The `cxr` command. Loads the TypeScript CLI through tsx, so it works straight after `npm install`.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src-main/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
