import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every Nx project of the workspace and the targets its project.json names, read
 * from the files (no project graph: the tests that need only names stay fast).
 */
export function workspaceProjects(root: string): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory() && !/^(node_modules|dist|cdktf\.out|coverage)$|^\./.test(entry.name)) walk(join(dir, entry.name));
      else if (entry.isFile() && entry.name === 'project.json') {
        const project = JSON.parse(readFileSync(join(dir, entry.name), 'utf8')) as { name: string; targets?: object };
        found.set(project.name, new Set(Object.keys(project.targets ?? {})));
      }
    }
  };
  walk(root);
  return found;
}
