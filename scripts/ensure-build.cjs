#!/usr/bin/env node
// `npm start` runs the compiled app. `npm ci` already built it (the prepare script); this rebuilds
// only when a source file is newer than the build, so a start after an edit never runs stale code.
const { execSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const marker = path.join(root, 'dist/apps/api/src/main.js');

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

const built = fs.existsSync(marker) ? fs.statSync(marker).mtimeMs : 0;
const sources = Math.max(
  newestSource(path.join(root, 'apps')),
  newestSource(path.join(root, 'libs')),
  newestSource(path.join(root, 'test/support')),
);
if (built < sources) {
  process.stderr.write('building (sources changed since the last build)…\n');
  execSync('npx nest build', { cwd: root, stdio: 'inherit' });
}
