#!/usr/bin/env node
// The `commune` command. Its code is in commands.ts; the build also bundles it into one CommonJS file
// with a V8 code cache (build-bundle.ts), which a process loads and runs in a fraction of the time
// Node's ESM loader takes to resolve, read, compile and link the ~130 modules one by one — paid by
// every rank of every job, and by the gridsearch driver before it can start them.
import { fileURLToPath } from 'node:url';
import { preferBundle } from '../bundled.js';
import { runCachedScript, saveCodeCache, TRAIN_VARIABLE } from '../cached-script.js';
import { badLogLevel } from '../log.js';
import { unsupportedNode } from '../node-version.js';

// What stops every command before it starts (pino would throw on a bad level deep inside the first log line).
const refused = unsupportedNode() ?? badLogLevel();
if (refused) {
  // Every rank of a launched job stops; the first rank (or a process outside a job) says why, once.
  const rank = process.env.COMMUNE_RANK ?? process.env.SLURM_PROCID ?? process.env.OMPI_COMM_WORLD_RANK ?? process.env.PMI_RANK ?? '0';
  if (rank === '0') process.stderr.write(`commune: ${refused}\n`);
  process.exit(2);
}

const modules = new URL('./commands.js', import.meta.url);
const bundle = new URL('./commands.bundle.cjs', import.meta.url);
const run = preferBundle(modules, bundle) === bundle ? runCachedScript(fileURLToPath(bundle)) : undefined;
if (!run) await import(modules.href);
else if (process.env[TRAIN_VARIABLE] === '1' && process.env.COMMUNE_RANK === '0') {
  // The build's training run (build-bundle.ts): rank 0 of a local job saves what it compiled.
  const { script } = run;
  if (script) process.once('exit', () => saveCodeCache(script, fileURLToPath(bundle)));
}
