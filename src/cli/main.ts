#!/usr/bin/env node
// The `commune` command. Its code is in commands.ts; the build also bundles it into one file
// (build-bundle.ts), which a rank loads in a fraction of the time Node's ESM loader takes to resolve,
// read and link the ~130 modules one by one — paid by every rank of every job, and by the gridsearch
// driver before it can start them.
import { preferBundle } from '../bundled.js';

await import(preferBundle(new URL('./commands.js', import.meta.url), new URL('./commands.bundle.mjs', import.meta.url)).href);
