/**
 * KV-cache edits as plain records, and a mirror of what each sequence of a session holds. Sessions in
 * another process queue their edits as records and answer `sequenceLength` from the mirror; the recording
 * wrapper replays recorded edits through the same mirror.
 */
import type { BatchToken, ModelSession } from "../model/session.js";
import type { TokenId } from "../model/vocabulary.js";

export type CacheEdit =
  | { kind: "removeRange"; sequence: number; from: number; to?: number }
  | { kind: "copySequence"; source: number; destination: number }
  | { kind: "keepOnlySequence"; sequence: number }
  | { kind: "clear" };

/** Applies one edit to a session. */
export function applyCacheEdit(session: ModelSession, edit: CacheEdit): void {
  if (edit.kind === "removeRange") session.removeRange(edit.sequence, edit.from, edit.to);
  else if (edit.kind === "copySequence") session.copySequence(edit.source, edit.destination);
  else if (edit.kind === "keepOnlySequence") session.keepOnlySequence(edit.sequence);
  else session.clear();
}

/** The token at every cached position of every sequence (undefined where a range was removed from the middle). */
export class SequenceMirror {
  private readonly sequences = new Map<number, (TokenId | undefined)[]>();

  /** The sequence's cached length: its last position + 1 (0 when empty), as llama.cpp reports it. */
  length(sequence: number): number {
    return this.sequences.get(sequence)?.length ?? 0;
  }

  /** The sequence's tokens by position. */
  tokens(sequence: number): readonly (TokenId | undefined)[] {
    return this.sequences.get(sequence) ?? [];
  }

  /** Records an evaluated batch: each token lands at its position in each of its sequences. */
  addBatch(batch: readonly BatchToken[]): void {
    for (const t of batch) for (const s of t.sequences) this.put(s, t.position, t.token);
  }

  put(sequence: number, position: number, token: TokenId): void {
    const seq = this.sequences.get(sequence) ?? [];
    seq[position] = token;
    this.sequences.set(sequence, seq);
  }

  apply(edit: CacheEdit): void {
    switch (edit.kind) {
      case "removeRange": {
        const seq = this.sequences.get(edit.sequence);
        if (!seq) return;
        const to = Math.min(edit.to ?? seq.length, seq.length);
        for (let p = edit.from; p < to; p++) seq[p] = undefined;
        while (seq.length > 0 && seq[seq.length - 1] === undefined) seq.length--;
        return;
      }
      case "copySequence":
        this.sequences.set(edit.destination, [...this.tokens(edit.source)]);
        return;
      case "keepOnlySequence":
        for (const s of [...this.sequences.keys()]) if (s !== edit.sequence) this.sequences.delete(s);
        return;
      case "clear":
        this.sequences.clear();
    }
  }
}
