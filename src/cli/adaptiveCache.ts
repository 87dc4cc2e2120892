/**
 * What adaptive drafting measured, kept between `verispec generate` runs: one file per model pair, placement
 * and machine, under $VERISPEC_CACHE_DIR (default: $XDG_CACHE_HOME/verispec, else ~/.cache/verispec), in
 * adaptive/. A run then starts from the pass costs, drafting costs, acceptance and exploration pace the
 * runs before it measured, instead of paying to measure them again: on a small CPU, where the draft model
 * does not pay, a short run then never opens it. `--no-adaptive-cache` starts from nothing and keeps nothing.
 * A file that cannot be read or is of another version is ignored (and replaced after the run).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { cpus, homedir, hostname } from "node:os";
import { join } from "node:path";
import { AdaptiveMemory, type AdaptiveMemoryRecord } from "../policies/adaptiveMemory.js";

/** What the measurements depend on: the models (files as they are now), where they run, and the machine. */
export interface AdaptiveCacheKey {
  target: string;
  draft: string;
  placement: unknown;
}

interface CacheFile {
  key: string;
  memory: AdaptiveMemoryRecord;
}

export function adaptiveCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.VERISPEC_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "verispec");
  return join(base, "adaptive");
}

/** A model reference with its file's size and modification time when it names a local file. */
function fileIdentity(ref: string): string {
  try {
    const s = statSync(ref);
    return `${ref}:${s.size}:${s.mtimeMs}`;
  } catch {
    return ref;
  }
}

function keyText(k: AdaptiveCacheKey): string {
  return JSON.stringify([fileIdentity(k.target), fileIdentity(k.draft), k.placement, hostname(), cpus()[0]?.model ?? ""]);
}

function cachePath(key: string, dir: string): string {
  return join(dir, `${createHash("sha256").update(key).digest("hex").slice(0, 24)}.json`);
}

/** The memory kept for this key, or a fresh one when there is none (or it cannot be used). */
export function loadAdaptiveMemory(k: AdaptiveCacheKey, dir = adaptiveCacheDir()): AdaptiveMemory {
  const key = keyText(k);
  try {
    const file = JSON.parse(readFileSync(cachePath(key, dir), "utf8")) as CacheFile;
    if (file.key === key) return AdaptiveMemory.fromRecord(file.memory);
  } catch {
    // No file yet, or one to ignore: start from nothing.
  }
  return new AdaptiveMemory();
}

/** Keeps the memory for this key (written whole, then renamed into place, so a reader never sees half a file). */
export function saveAdaptiveMemory(k: AdaptiveCacheKey, memory: AdaptiveMemory, dir = adaptiveCacheDir()): void {
  const key = keyText(k);
  const path = cachePath(key, dir);
  mkdirSync(dir, { recursive: true });
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, JSON.stringify({ key, memory: memory.toRecord() } satisfies CacheFile));
  renameSync(partial, path);
}
