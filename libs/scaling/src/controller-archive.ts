import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { bundleController } from '@queue-lanes/backlog-controller';
import { deterministicZip } from './zip';

/*
 * The backlog controller's Lambda package, built once per controller version.
 *
 * Bundling with esbuild costs ~0.7 s, too much for every synth, so the zip is
 * cached under node_modules/.cache/queue-lanes-controller/<hash>/controller.zip, by a hash of
 * what goes into it: every source file of libs/backlog-controller and of libs/contract
 * (tests and test helpers aside), the three files of libs/config they import, and the installed dependency tree
 * (node_modules/.package-lock.json, which pins esbuild, ioredis and the AWS
 * SDK). A warm synth hashes those (a few ms) and reuses the zip. The zip itself
 * is deterministic (see zip.ts), so every machine and checkout path produces the
 * same bytes, the same asset hash and the same Terraform JSON.
 *
 * A cold build runs the controller lib's bundleController with handler.ts's
 * path in the workspace: inside the app bundle tools/run-app.cjs makes,
 * `__dirname` is the app's folder, not the controller's.
 */

/** The controller's Lambda package. */
export interface ControllerArchive {
  /** The zip (index.js at its root), in the cache. */
  readonly file: string;
  /** The Lambda `handler` setting. */
  readonly handler: string;
  /** Lambda's `source_code_hash`: the base64 SHA-256 of the zip. */
  readonly sourceCodeHash: string;
  /** Hex digest of the zip, for the Terraform asset's folder name. */
  readonly assetHash: string;
  /** Size of the zip in bytes. */
  readonly bytes: number;
}

export interface ControllerArchiveOptions {
  /**
   * The repository root (holds libs/backlog-controller).
   * @default found by walking up from this file, then from the working directory
   */
  readonly workspaceRoot?: string;
  /**
   * Where zips are kept between synths.
   * @default <workspaceRoot>/node_modules/.cache/queue-lanes-controller
   */
  readonly cacheDir?: string;
}

/** Where the controller's sources live, relative to the repository root. */
const CONTROLLER_SOURCES = join('libs', 'backlog-controller', 'src');
/** The contract the controller bundles whole (its configuration schema, metric names, key layout). */
const CONTRACT_SOURCES = join('libs', 'contract', 'src');
/** The files the controller imports from libs/config (the name pattern, cron expressions, the policy bounds); their changes rebuild the zip too. */
const SHARED_SOURCES = ['cron.ts', 'ids.ts', 'lane-policy.ts'].map((file) => join('libs', 'config', 'src', file));
/** Bumped when the way the zip is made changes, so old cache entries are not reused. */
const ARCHIVE_FORMAT = 'queue-lanes-controller-zip/1';
const HANDLER = 'index.handler';

const memo = new Map<string, ControllerArchive>();

/**
 * The controller's Lambda zip for the sources in the workspace: from the cache
 * when the sources and dependencies are unchanged, else bundled and cached.
 * Throws with esbuild's output when bundling fails.
 */
export function controllerArchive(options: ControllerArchiveOptions = {}): ControllerArchive {
  const root = options.workspaceRoot ?? findWorkspaceRoot();
  const cacheDir = options.cacheDir ?? join(root, 'node_modules', '.cache', 'queue-lanes-controller');
  const key = inputsHash(root);
  // One folder per version: the asset keeps the file name, controller.zip.
  const file = join(cacheDir, key, 'controller.zip');
  const known = memo.get(file);
  if (known && existsSync(known.file)) return known;

  let zip: Buffer;
  try {
    zip = readFileSync(file);
  } catch {
    zip = build(root, cacheDir, file);
  }
  const digest = createHash('sha256').update(zip).digest();
  const archive: ControllerArchive = {
    file,
    handler: HANDLER,
    sourceCodeHash: digest.toString('base64'),
    assetHash: digest.toString('hex').slice(0, 32),
    bytes: zip.length,
  };
  memo.set(file, archive);
  return archive;
}

/** The folder above this file (or the working directory) that holds libs/backlog-controller. */
export function findWorkspaceRoot(): string {
  for (const start of [__dirname, process.cwd()]) {
    let dir = start;
    for (;;) {
      if (existsSync(join(dir, CONTROLLER_SOURCES, 'handler.ts'))) return dir;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error(
    `cannot find ${CONTROLLER_SOURCES.split(sep).join('/')}/handler.ts above ${__dirname} or ${process.cwd()}; synthesize from inside the repository`,
  );
}

/** The workspace files the bundle is made from, relative to `root` with / separators, in the order they are hashed. */
export function bundledSources(root: string): string[] {
  const own = [CONTROLLER_SOURCES, CONTRACT_SOURCES].flatMap((dir) =>
    (readdirSync(join(root, dir), { recursive: true }) as string[])
      .map((f) => f.split(sep).join('/'))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.startsWith('testing/'))
      .sort()
      .map((f) => `${dir.split(sep).join('/')}/${f}`),
  );
  return [...own, ...SHARED_SOURCES.map((f) => f.split(sep).join('/'))];
}

/** SHA-256 (hex, 32 characters) of everything the bundle is made from. */
export function inputsHash(root: string): string {
  const hash = createHash('sha256').update(`${ARCHIVE_FORMAT}\n`);
  for (const f of bundledSources(root))
    hash
      .update(`${f}\n`)
      .update(readFileSync(join(root, f)))
      .update('\n');
  // The installed tree (npm writes it on every install); the lockfile when node_modules has none.
  for (const lock of [join(root, 'node_modules', '.package-lock.json'), join(root, 'package-lock.json')]) {
    if (existsSync(lock)) {
      hash.update(`${relative(root, lock).split(sep).join('/')}\n`).update(readFileSync(lock));
      break;
    }
  }
  return hash.digest('hex').slice(0, 32);
}

/** Bundles the controller and stores its zip at `file` (atomically: parallel synths may race). */
function build(root: string, cacheDir: string, file: string): Buffer {
  mkdirSync(dirname(file), { recursive: true });
  const work = mkdtempSync(join(cacheDir, 'build-'));
  try {
    const outfile = join(work, 'index.js');
    bundleController(outfile, join(root, CONTROLLER_SOURCES, 'handler.ts'));
    const zip = deterministicZip([{ name: 'index.js', data: readFileSync(outfile) }]);
    const staged = join(work, 'controller.zip');
    writeFileSync(staged, zip);
    renameSync(staged, file);
    return zip;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
