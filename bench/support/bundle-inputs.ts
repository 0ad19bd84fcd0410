/**
 * What a bundle is made of, from esbuild's metafile: the bytes each input contributes to the
 * output, grouped by npm package (the innermost `node_modules/<pkg>`) or, for the project's own
 * files, by folder (`shared/adapters/dynamo`). `npm run bench -- lambda --explain` prints it.
 */
import type { Metafile } from 'esbuild';

export interface BundlePart {
  /** The package (`@smithy/core`) or project folder (`shared/config`). */
  part: string;
  bytes: number;
  /** The part's largest input file and its bytes. */
  largest: { path: string; bytes: number };
}

/** `node_modules/a/node_modules/@b/c/x.js` → `@b/c`; `shared/config/env.ts` → `shared/config`. */
export function partOf(path: string): string {
  const packages = [...path.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  const last = packages.at(-1);
  if (last) return last[1] ?? path;
  const folders = path.split('/');
  return folders.length > 1 ? folders.slice(0, Math.min(3, folders.length - 1)).join('/') : path;
}

/** The parts of the bundle of a one-entry build (its source map aside), biggest first. */
export function bundleParts(metafile: Metafile): BundlePart[] {
  const output = Object.values(metafile.outputs).find((candidate) => candidate.entryPoint !== undefined);
  if (!output) throw new Error('the metafile has no output with an entry point');
  const parts = new Map<string, BundlePart>();
  for (const [path, input] of Object.entries(output.inputs)) {
    const name = partOf(path);
    const part = parts.get(name) ?? { part: name, bytes: 0, largest: { path, bytes: 0 } };
    part.bytes += input.bytesInOutput;
    if (input.bytesInOutput > part.largest.bytes) part.largest = { path, bytes: input.bytesInOutput };
    parts.set(name, part);
  }
  return [...parts.values()].sort((a, b) => b.bytes - a.bytes);
}
