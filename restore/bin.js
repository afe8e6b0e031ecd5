#!/usr/bin/env node
// `homelab-restore` once installed (npm link / npm install -g .): the wizard, run through tsx
// from this checkout so it reads the same TypeScript the plan and the program run.
const { spawnSync } = require("node:child_process");
const { join } = require("node:path");
const r = spawnSync(process.execPath, ["--import", require.resolve("tsx"), join(__dirname, "cli.ts"), ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(r.status === null ? 1 : r.status);
