// Which file to load for an entry the build also bundled (`npm run bundle`, src/cli/build-bundle.ts):
// the bundle when it is at least as new as the entry's compiled module, else the module itself. A
// plain `tsc` rebuild leaves the previous bundle behind; its modules are then newer and load instead,
// so what runs is always what was compiled last.
import { statSync } from 'node:fs';

export function preferBundle(module: URL, bundle: URL): URL {
  try {
    return statSync(bundle).mtimeMs >= statSync(module).mtimeMs ? bundle : module;
  } catch {
    return module; // no bundle (or, for the caller to report, no module)
  }
}
