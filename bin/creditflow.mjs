#!/usr/bin/env node
// The `creditflow` command. creditflow runs from its TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
