/**
 * The inputs of chosen layers of a llama.cpp context, kept for every token of its last pass (llama.cpp's staging
 * API): the features an EAGLE-3 head reads (docs/eagle3.md). Capturing costs a copy of each chosen layer's input
 * per pass, so it is off until a head asks for it.
 */
import type { NativeBinding, NativeContext } from "./native.js";

export class LayerInputs {
  private layers: readonly number[] = [];
  /** Heads reading the captured layers. */
  private heads = 0;
  /** What borrows the context (a head's context reads its matrices): ended before the context goes. */
  private readonly borrowers = new Set<{ dispose(): void }>();

  constructor(
    private readonly native: NativeBinding,
    /** The context whose passes are read; a head's context borrows its embeddings too. */
    readonly context: NativeContext,
    /** Floats per layer input (the model's embedding size). */
    readonly embeddingSize: number,
  ) {}

  /** The layers captured from the next pass on, in this order (an empty list stops capturing). */
  capture(layers: readonly number[]): void {
    this.native.captureLayers(this.context, Int32Array.from(layers));
    this.layers = [...layers];
  }

  /** Floats per token: the captured layers' inputs side by side. */
  get width(): number {
    return this.layers.length * this.embeddingSize;
  }

  /** The captured inputs of `sequence`'s tokens at these positions, a row of `width` floats each. */
  at(sequence: number, positions: readonly number[]): Float32Array {
    if (this.layers.length === 0) throw new Error("no layers are captured");
    const out = new Float32Array(positions.length * this.width);
    this.native.layerFeatures(this.context, sequence, Int32Array.from(positions), out);
    return out;
  }

  /** A head starts reading these layers: captured from the next pass on (the capture of other heads, if the same, kept). */
  acquire(layers: readonly number[]): void {
    if (this.heads > 0 && layers.join() !== this.layers.join())
      throw new Error(`this target already feeds a head reading layers ${this.layers.join(", ")}, not ${layers.join(", ")}`);
    if (this.heads++ === 0) this.capture(layers);
  }

  /** A head stops reading: the capture ends with the last. */
  unacquire(): void {
    if (--this.heads === 0) this.capture([]);
  }

  /** Registers something that must end before the context does (a head session); returns its deregistration. */
  lend(borrower: { dispose(): void }): () => void {
    this.borrowers.add(borrower);
    return () => this.borrowers.delete(borrower);
  }

  /** Ends the borrowers and stops capturing (the context may serve a later session). */
  release(): void {
    for (const b of [...this.borrowers]) b.dispose();
    if (this.layers.length > 0) this.capture([]);
  }
}
