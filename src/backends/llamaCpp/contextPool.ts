/**
 * Contexts of disposed sessions, emptied and kept for the next session of the same shape. Creating a llama.cpp
 * context allocates and clears its KV cache and compute buffers (measured here: about 60 ms for the embedded
 * target's default context on 2 CPU cores), which is more than many short generations spend stepping, and
 * a reused context also keeps its backend's warm state (CUDA graphs). An emptied context decodes as a new one
 * does: its cache has no cells in use and fills from the first cell again.
 */
import type { NativeBinding, NativeContext } from "./native.js";

/** What a context is made with, apart from the model: contexts of one shape are interchangeable. */
export interface ContextShape {
  contextSize: number;
  batchSize: number;
  maxSequences: number;
}

/** Most idle contexts kept per model; the oldest is freed first. */
const MAX_IDLE = 4;

export class ContextPool {
  private readonly idle: { key: string; context: NativeContext }[] = [];

  constructor(private readonly native: NativeBinding) {}

  /** An idle context of this shape, or undefined. */
  take(shape: ContextShape): NativeContext | undefined {
    const i = this.idle.findIndex((e) => e.key === keyOf(shape));
    return i < 0 ? undefined : this.idle.splice(i, 1)[0].context;
  }

  /** Empties the context and keeps it (freeing the oldest idle one beyond the limit). */
  put(shape: ContextShape, context: NativeContext): void {
    this.native.memoryClear(context);
    this.idle.push({ key: keyOf(shape), context });
    while (this.idle.length > MAX_IDLE) this.native.freeContext(this.idle.shift()!.context);
  }

  /** Frees every idle context. */
  clear(): void {
    for (const e of this.idle.splice(0)) this.native.freeContext(e.context);
  }
}

function keyOf(s: ContextShape): string {
  return `${s.contextSize}/${s.batchSize}/${s.maxSequences}`;
}
