/**
 * A session whose cache lives in a worker process. Cache edits are queued and go with the next evaluate (one
 * message a step); sequence lengths are answered here, from a mirror of what each sequence holds.
 */

import { type LogitRows, PLAIN_ROWS } from "../../../model/rows.js";
import { type BatchToken, type EvaluateOptions, type ModelSession, PLAIN_SESSION } from "../../../model/session.js";
import type { Vocabulary } from "../../../model/vocabulary.js";
import { validateBatch } from "../../batchValidation.js";
import { type CacheEdit, SequenceMirror } from "../../cacheEdits.js";
import type { WorkerConnection } from "./workerConnection.js";
import type { WorkerSessionInfo } from "./workerProtocol.js";

export class ProcessSession implements ModelSession {
  readonly contextSize: number;
  readonly maxSequences: number;
  readonly batchSize: number;
  /** Passes only: every call is a message to the worker, and rows come back whole. */
  readonly capabilities = PLAIN_SESSION;
  private readonly mirror = new SequenceMirror();
  private edits: CacheEdit[] = [];
  private disposed = false;

  constructor(
    private readonly worker: WorkerConnection,
    private readonly info: WorkerSessionInfo,
    readonly vocabulary: Vocabulary,
    private readonly callTimeoutMs: number,
    private readonly onDispose: () => void,
  ) {
    this.contextSize = info.contextSize;
    this.maxSequences = info.maxSequences;
    this.batchSize = info.batchSize;
  }

  async evaluate(batch: readonly BatchToken[], options?: EvaluateOptions): Promise<LogitRows> {
    this.checkLive();
    validateBatch(batch, { ...this, vocabSize: this.vocabulary.size, sequenceLength: (s) => this.mirror.length(s) });
    const edits = this.edits;
    this.edits = [];
    // Batch tokens are plain records: the IPC channel's structured clone copies them as they are.
    const { count, logits } = await this.worker.call("evaluate", { session: this.info.session, edits, batch: [...batch], options }, this.callTimeoutMs);
    this.mirror.addBatch(batch);
    const vocabSize = this.vocabulary.size;
    return { count, vocabSize, row: (i) => logits.subarray(i * vocabSize, (i + 1) * vocabSize), capabilities: PLAIN_ROWS };
  }

  sequenceLength(sequence: number): number {
    this.checkLive();
    return this.mirror.length(sequence);
  }

  removeRange(sequence: number, from: number, to?: number): void {
    if (from < 0 || (to !== undefined && to < from)) throw new RangeError(`invalid range [${from}, ${to})`);
    this.edit({ kind: "removeRange", sequence, from, to });
  }

  copySequence(source: number, destination: number): void {
    this.edit({ kind: "copySequence", source, destination });
  }

  keepOnlySequence(sequence: number): void {
    this.edit({ kind: "keepOnlySequence", sequence });
  }

  clear(): void {
    this.edit({ kind: "clear" });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.onDispose();
    if (!this.worker.failed) this.worker.call("disposeSession", { session: this.info.session }, this.callTimeoutMs).catch(() => {});
  }

  private edit(edit: CacheEdit): void {
    this.checkLive();
    this.mirror.apply(edit);
    this.edits.push(edit);
  }

  private checkLive(): void {
    if (this.disposed) throw new Error("the session has been disposed");
    if (this.worker.failed) throw this.worker.failed;
  }
}
