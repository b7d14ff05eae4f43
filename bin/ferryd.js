#!/usr/bin/env node
import { runDaemon } from '../dist/daemon/main.js';

await runDaemon(process.argv.slice(2));
