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
 */
export function bundleController(outfile: string): ControllerBundle {
  buildSync({
    entryPoints: [CONTROLLER_ENTRY],
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
