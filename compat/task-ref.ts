// Functions travel by reference: the URL of the ES module that exports them and the export name.
// The worker imports the same URL (on a cluster the script and its libraries sit on the shared file
// system). The defining module of a function object is found with the inspector (its
// [[FunctionLocation]] script), then the function must be one of that module's exports; anything
// else (a closure, an arrow function, an unexported function) cannot be re-created on a worker and
// is refused at submit time. Built-in tasks (the grid search's fits) travel by name.
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { isMainThread, workerData } from 'node:worker_threads';
import inspector from 'node:inspector';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UnshippableFunctionError } from './errors.js';

/** `main`: the module is the client's script, loaded on workers without finishing its evaluation (see loadMain). */
export type TaskRef = { module: string; name: string; main?: boolean } | { builtin: string };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFn = (...args: any[]) => unknown;

const builtinByFn = new Map<AnyFn, string>();
const builtinByName = new Map<string, AnyFn>();

/** Registers a built-in task: it travels by `name` and every worker resolves it in this module set. */
export function registerBuiltin(name: string, fn: AnyFn): void {
  builtinByFn.set(fn, name);
  builtinByName.set(name, fn);
}

export function builtin(name: string): AnyFn | undefined {
  return builtinByName.get(name);
}

const cache = new WeakMap<AnyFn, TaskRef>();
let session: inspector.Session | undefined;

/** The URL of the script that defines `fn`, from the inspector (synchronous on the same thread). */
function definingScript(fn: AnyFn): string | undefined {
  if (!session) { session = new inspector.Session(); session.connect(); }
  const s = session;
  const scripts = new Map<string, string>();
  const onParsed = (m: { params: { scriptId: string; url: string } }): void => { scripts.set(m.params.scriptId, m.params.url); };
  s.on('Debugger.scriptParsed', onParsed);
  let url: string | undefined;
  const g = globalThis as unknown as { __communeTaskRefProbe?: AnyFn };
  try {
    s.post('Debugger.enable', () => {});
    g.__communeTaskRefProbe = fn;
    s.post('Runtime.evaluate', { expression: 'globalThis.__communeTaskRefProbe' }, (err, r) => {
      const objectId = r?.result?.objectId;
      if (err || !objectId) return;
      s.post('Runtime.getProperties', { objectId, ownProperties: true }, (err2, p) => {
        const loc = p?.internalProperties?.find((x) => x.name === '[[FunctionLocation]]');
        const id = (loc?.value?.value as { scriptId?: string } | undefined)?.scriptId;
        if (!err2 && id !== undefined) url = scripts.get(id);
      });
      s.post('Runtime.releaseObject', { objectId });
    });
  } finally {
    delete g.__communeTaskRefProbe;
    s.post('Debugger.disable', () => {});
    s.off('Debugger.scriptParsed', onParsed);
  }
  return url;
}

function describe(fn: AnyFn): string {
  return fn.name ? `function '${fn.name}'` : 'an anonymous function';
}

const exportsOf = new Map<string, Set<string>>();

/** Export names of a module file, read from its source (the module may still be evaluating). */
function exportNames(url: string): Set<string> {
  let names = exportsOf.get(url);
  if (names) return names;
  names = new Set<string>();
  let src = '';
  try { src = url.startsWith('file:') ? readFileSync(fileURLToPath(url), 'utf8') : ''; } catch { /* unreadable: no exports */ }
  for (const m of src.matchAll(/\bexport\s+(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)/g)) names.add(m[1]);
  for (const m of src.matchAll(/\bexport\s+(?:const|let|var)\s+([A-Za-z_$][\w$]*)/g)) names.add(m[1]);
  for (const m of src.matchAll(/\bexport\s*\{([^}]*)\}/g)) {
    for (const part of m[1].split(',')) {
      const [local] = part.trim().split(/\s+as\s+/);
      if (local) names.add(local.trim());
    }
  }
  exportsOf.set(url, names);
  return names;
}

/**
 * The reference under which `fn` travels. Throws UnshippableFunctionError (saying how to fix it)
 * for anything a worker could not import.
 */
export function taskRef(fn: unknown): TaskRef {
  if (typeof fn !== 'function') throw new UnshippableFunctionError(`the task must be a function, got ${fn === null ? 'null' : typeof fn}`);
  const f = fn as AnyFn;
  const hit = cache.get(f) ?? builtinRef(f);
  if (hit) return hit;
  const url = definingScript(f);
  if (url === undefined || !/^(file|data|https?):/.test(url)) {
    throw new UnshippableFunctionError(`${describe(f)} cannot be sent to a worker: it is not defined in an ES module file (a built-in or native function?) — wrap it in a function exported from your script or a module`);
  }
  if (!f.name || !exportNames(url).has(f.name)) {
    throw new UnshippableFunctionError(`${describe(f)} cannot be sent to a worker: functions travel by reference (module URL + export name), and it is not exported from ${url} ` +
      `(a closure, an arrow function or an unexported function) — define it at the top level of a module and \`export\` it, passing what it captured as arguments`);
  }
  const ref: TaskRef = url === mainUrl() ? { module: url, name: f.name, main: true } : { module: url, name: f.name };
  cache.set(f, ref);
  return ref;
}

/**
 * Declares where `fn` is exported from, for code whose functions are not in the module a worker would
 * import (commune's bundled CLI: every function lives in one script file). The worker imports `module`
 * and calls its export `name`.
 */
export function shipAs(fn: AnyFn, module: string, name: string): void {
  cache.set(fn, { module, name });
}

function builtinRef(fn: AnyFn): TaskRef | undefined {
  const b = builtinByFn.get(fn);
  return b === undefined ? undefined : { builtin: b };
}

const namespaces = new Map<string, Record<string, unknown>>();

/** Worker side: the function a reference names (modules imported once per thread). */
export async function resolveRef(ref: TaskRef): Promise<AnyFn> {
  if ('builtin' in ref) {
    const f = builtinByName.get(ref.builtin);
    if (!f) throw new Error(`unknown built-in task '${ref.builtin}' — client and workers run different commune versions`);
    return f;
  }
  let ns = namespaces.get(ref.module);
  if (!ns) { ns = ref.main ? await loadMain(ref.module) : (await import(ref.module)) as Record<string, unknown>; namespaces.set(ref.module, ns); }
  const f = ns[ref.name];
  if (typeof f !== 'function') throw new Error(`${ref.module} has no exported function '${ref.name}' on this worker — is the file the same on every node (shared file system)?`);
  return f as AnyFn;
}

let mainHref: string | undefined;
function mainUrl(): string | undefined {
  if (mainHref === undefined && process.argv[1]) {
    try { mainHref = pathToFileURL(realpathSync(process.argv[1])).href; } catch { mainHref = ''; }
  }
  return mainHref;
}

/** True inside a worker's task thread (initialize() there never returns: see loadMain). */
export function inTaskThread(): boolean {
  return !isMainThread && (workerData as { communeTaskThread?: boolean } | undefined)?.communeTaskThread === true;
}

/**
 * The client's script on a worker thread: importing it would run the whole script again (and never
 * finish, since its initialize() waits forever outside the client rank). As Python's pickle does not
 * re-run __main__, the module is linked with vm.SourceTextModule (its imports are the real modules)
 * and evaluated only up to its `await initialize()`, which never resolves in a task thread; its
 * exports — and everything defined before initialize() — are then usable.
 */
async function loadMain(url: string): Promise<Record<string, unknown>> {
  const vm = await import('node:vm');
  const Source = (vm as unknown as { SourceTextModule?: new (code: string, o: object) => VmModule }).SourceTextModule;
  const Synthetic = (vm as unknown as { SyntheticModule: new (names: string[], init: (this: { setExport(n: string, v: unknown): void }) => void, o: object) => VmModule }).SyntheticModule;
  if (!Source) return (await import(url)) as Record<string, unknown>;
  const m = new Source(readFileSync(fileURLToPath(url), 'utf8'), {
    identifier: url,
    initializeImportMeta: (meta: { url?: string }) => { meta.url = url; },
    importModuleDynamically: (spec: string) => import(resolveSpecifier(spec, url)),
  });
  await m.link(async (spec: string) => {
    const ns = (await import(resolveSpecifier(spec, url))) as Record<string, unknown>;
    const names = Object.keys(ns);
    return new Synthetic(names, function () { for (const n of names) this.setExport(n, ns[n]); }, { identifier: spec });
  });
  // Runs synchronously up to the script's first await (its initialize()); the promise may never settle.
  m.evaluate().catch((e: Error) => process.stderr.write(`commune: loading ${url} on a worker failed: ${e.stack ?? e}\n`));
  return m.namespace as Record<string, unknown>;
}

interface VmModule { link(l: (spec: string) => Promise<VmModule>): Promise<void>; evaluate(): Promise<void>; namespace: object }

function resolveSpecifier(spec: string, parent: string): string {
  if (spec.startsWith('node:') || isBuiltin(spec)) return spec;
  if (spec.startsWith('./') || spec.startsWith('../') || spec.startsWith('/') || /^[a-z]+:/.test(spec)) return new URL(spec, parent).href;
  return pathToFileURL(createRequire(parent).resolve(spec)).href;
}

export function refName(ref: TaskRef): string {
  return 'builtin' in ref ? ref.builtin : ref.name;
}
