/**
 * node-llama-cpp's own speculative decoding (DraftSequenceTokenPredictor and
 * InputLookupTokenPredictor), run as benchmark peers on the same GGUF files and
 * thread count: what TypeScript users have today.
 */
import {
  DraftSequenceTokenPredictor,
  getLlama,
  InputLookupTokenPredictor,
  type Llama,
  LlamaCompletion,
  type LlamaContextSequence,
  LlamaLogLevel,
  type LlamaModel,
} from "node-llama-cpp";

export type PeerKind = "draft" | "lookup" | "none";

export interface PeerRun {
  tokens: number;
  seconds: number;
  /** Predicted tokens the target accepted and refuted (node-llama-cpp's statistics). */
  validated: number;
  refuted: number;
}

export class NodeLlamaCppPeers {
  private readonly sequences = new Map<string, LlamaContextSequence>();

  private constructor(
    private readonly llama: Llama,
    private readonly target: LlamaModel,
    private readonly draft: LlamaModel | undefined,
    private readonly threads: number,
    private readonly contextSize: number,
  ) {}

  static async open(targetFile: string, draftFile: string | undefined, threads: number, contextSize: number): Promise<NodeLlamaCppPeers> {
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const target = await llama.loadModel({ modelPath: targetFile });
    const draft = draftFile ? await llama.loadModel({ modelPath: draftFile }) : undefined;
    return new NodeLlamaCppPeers(llama, target, draft, threads, contextSize);
  }

  /** A target sequence with the kind's predictor, made once per kind and draft length. */
  private async sequence(kind: PeerKind, k: number): Promise<LlamaContextSequence> {
    const key = `${kind}/${k}`;
    const cached = this.sequences.get(key);
    if (cached) return cached;
    const options = { contextSize: this.contextSize, threads: this.threads, sequences: 1 };
    const context = await this.target.createContext(options);
    let seq: LlamaContextSequence;
    if (kind === "draft") {
      if (!this.draft) throw new Error("the node-llama-cpp draft peer needs a draft model");
      const draftSeq = (await this.draft.createContext(options)).getSequence();
      seq = context.getSequence({ tokenPredictor: new DraftSequenceTokenPredictor(draftSeq, { maxTokens: k, minTokens: 0 }) });
    } else if (kind === "lookup") seq = context.getSequence({ tokenPredictor: new InputLookupTokenPredictor() });
    else seq = context.getSequence();
    this.sequences.set(key, seq);
    return seq;
  }

  async generate(kind: PeerKind, k: number, prompt: string, maxTokens: number, temperature: number, seed: number): Promise<PeerRun> {
    const seq = await this.sequence(kind, k);
    await seq.clearHistory();
    const before = { ...seq.tokenPredictions };
    const completion = new LlamaCompletion({ contextSequence: seq });
    let tokens = 0;
    const start = performance.now();
    await completion.generateCompletion(prompt, {
      maxTokens,
      temperature,
      seed,
      onToken: (t) => {
        tokens += t.length;
      },
    });
    const seconds = (performance.now() - start) / 1000;
    const after = seq.tokenPredictions;
    return { tokens, seconds, validated: after.validated - before.validated, refuted: after.refuted - before.refuted };
  }

  async dispose(): Promise<void> {
    await this.draft?.dispose();
    await this.target.dispose();
    await this.llama.dispose();
  }
}
