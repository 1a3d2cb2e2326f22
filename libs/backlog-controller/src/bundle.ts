import { buildSync } from 'esbuild';
import { basename, extname, join } from 'node:path';
import { statSync } from 'node:fs';

/*
 * Builds the Lambda's code at synth time: handler.ts and everything it imports
 * (ioredis, the three AWS SDK v3 clients) in one minified CommonJS file for the
 * Node.js 20 runtime. The SDK is bundled rather than taken from the runtime, so
 * the tested client versions (package-lock.json) are the deployed ones. The
 * output is deterministic, so an unchanged controller keeps its asset hash.
 */

/** The bundled Lambda code. */
export interface ControllerBundle {
  /** The file written. */
  readonly outfile: string;
  /** Its size in bytes (uncompressed). */
  readonly bytes: number;
  /** The Lambda `handler` setting for it, e.g. "index.handler" for index.js. */
  readonly handler: string;
}

/** The bundle's entry: exports `handler`. */
export const CONTROLLER_ENTRY = join(__dirname, 'handler.ts');

/**
 * Bundles the controller into `outfile` (synchronously: constructs cannot
 * await). Name it index.js in a folder of its own and zip that folder.
 *
 * @param entry handler.ts; callers loaded from a bundle (where `__dirname` is
 *   not this folder) pass its path in the workspace.
 * @default CONTROLLER_ENTRY
 */
export function bundleController(outfile: string, entry: string = CONTROLLER_ENTRY): ControllerBundle {
  buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    // ES module builds first: the AWS SDK's dist-es tree-shakes, its dist-cjs does not.
    mainFields: ['module', 'main'],
    sourcemap: false,
    logLevel: 'error',
  });
  return { outfile, bytes: statSync(outfile).size, handler: `${basename(outfile, extname(outfile))}.handler` };
}
