// Files shipped beside the code (controllers/, data/), found from wherever the code runs: the
// sources (src/<folder>/<module>.ts, at any depth) or the one-file bundles in dist/. The package
// root is the nearest folder above this module that holds package.json.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The path of `segments` under the package root. */
export function packageFile(...segments: string[]): string {
  if (root === undefined) {
    const here = dirname(fileURLToPath(import.meta.url));
    let folder = here;
    while (!existsSync(join(folder, 'package.json')) && dirname(folder) !== folder) folder = dirname(folder);
    root = existsSync(join(folder, 'package.json')) ? folder : dirname(here);
  }
  return join(root, ...segments);
}
