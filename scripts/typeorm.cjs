#!/usr/bin/env node
// Builds if needed, then runs the compiled migration CLI (dist/apps/api/src/database/cli.js).
const { execFileSync } = require('node:child_process');
const path = require('node:path');
require('./ensure-build.cjs');
execFileSync(process.execPath, [path.join(__dirname, '../dist/apps/api/src/database/cli.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
});
