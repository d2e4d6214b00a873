#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/cli into dist/ by `npm run build` (run by `npm ci` through "prepare").
import '../dist/cli/main.js';
