#!/usr/bin/env node
import { runCli } from '../dist/ferry.mjs';

process.exitCode = await runCli(process.argv.slice(2));
