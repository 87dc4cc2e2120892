/**
 * Wraps a model so that every call its sessions get (evaluations and cache
 * edits) is recorded: for counting target and drafter calls in tests, and for
 * replaying what each session's cache held.
 */
import { type CacheEdit, SequenceMirror } from "../../src/backends/cacheEdits.js";
import type { BatchToken, EvaluateOptions, LanguageModel, ModelSession, SessionCapabilities, SessionOptions } from "../../src/model/session.js";
import type { TokenId } from "../../src/model/vocabulary.js";

/** An evaluate records its batch, and `prefill` when it was asked as a prompt's prefill. */
export type RecordedCall = { session: number } & ({ kind: "evaluate"; batch: BatchToken[]; prefill?: true } | CacheEdit);

const RECORDED = new Set(["evaluate", "removeRange", "copySequence", "keepOnlySequence", "clear"]);

function record(session: number, key: string, args: unknown[]): RecordedCall {
  switch (key) {
    case "evaluate": {
      const batch = (args[0] as BatchToken[]).map((t) => ({ ...t, sequences: [...t.sequences] }));
      return { session, kind: "evaluate", batch, ...((args[1] as EvaluateOptions | undefined)?.prefill && { prefill: true }) };
    }
    case "removeRange":
      return { session, kind: "removeRange", sequence: args[0] as number, from: args[1] as number, to: args[2] as number | undefined };
    case "copySequence":
      return { session, kind: "copySequence", source: args[0] as number, destination: args[1] as number };
    case "keepOnlySequence":
      return { session, kind: "keepOnlySequence", sequence: args[0] as number };
    default:
      return { session, kind: "clear" };
  }
}

/** A run (greedy or sampled) is recorded as the evaluates it stands for: the batch, then each drafted token but the last, alone. */
function recordRun<A extends unknown[], R extends { tokens: TokenId[] }>(
  session: number,
  calls: RecordedCall[],
  run: (batch: readonly BatchToken[], ...rest: A) => Promise<R>,
): (batch: readonly BatchToken[], ...rest: A) => Promise<R> {
  return async (batch, ...rest) => {
    const result = await run(batch, ...rest);
    calls.push(record(session, "evaluate", [batch]));
    const last = batch[batch.length - 1];
    result.tokens.slice(0, -1).forEach((token, i) => {
      calls.push(record(session, "evaluate", [[{ token, position: last.position + 1 + i, sequences: last.sequences, logits: true }]]));
    });
    return result;
  };
}

/** The session's capabilities with its greedy and sampled runs recorded (recordRun); the others as they are. */
function recordedCapabilities(inner: SessionCapabilities, session: number, calls: RecordedCall[]): SessionCapabilities {
  const { greedyRuns, sampledRuns } = inner;
  return {
    ...inner,
    greedyRuns: greedyRuns && { continueGreedy: recordRun(session, calls, greedyRuns.continueGreedy.bind(greedyRuns)) },
    sampledRuns: sampledRuns && { continueSampled: recordRun(session, calls, sampledRuns.continueSampled.bind(sampledRuns)) },
  };
}

export class RecordingModel implements LanguageModel {
  readonly calls: RecordedCall[] = [];
  private sessions = 0;

  constructor(private readonly inner: LanguageModel) {}

  get name(): string {
    return this.inner.name;
  }
  get vocabulary() {
    return this.inner.vocabulary;
  }
  get trainContextSize(): number {
    return this.inner.trainContextSize;
  }

  /** The recorded forward passes only. */
  get evaluations(): Extract<RecordedCall, { kind: "evaluate" }>[] {
    return this.calls.filter((c) => c.kind === "evaluate");
  }

  async createSession(options?: SessionOptions): Promise<ModelSession> {
    const inner = await this.inner.createSession(options);
    const id = this.sessions++;
    const calls = this.calls;
    const capabilities = recordedCapabilities(inner.capabilities, id, calls);
    return new Proxy(inner, {
      get(target, key, receiver) {
        if (key === "capabilities") return capabilities;
        const value = Reflect.get(target, key, receiver);
        if (typeof value !== "function") return value;
        if (typeof key !== "string" || !RECORDED.has(key)) return value.bind(target);
        return (...args: unknown[]) => {
          calls.push(record(id, key, args));
          return value.apply(target, args);
        };
      },
    });
  }

  dispose(): void {
    this.inner.dispose();
  }
}

/** Replays the recorded calls of one session and returns, for every evaluated token, the whole sequence it completed (its history and itself). */
export function replayEvaluatedSequences(calls: readonly RecordedCall[], session = 0): number[][] {
  const mirror = new SequenceMirror();
  const out: number[][] = [];
  for (const c of calls) {
    if (c.session !== session) continue;
    if (c.kind !== "evaluate") {
      mirror.apply(c);
      continue;
    }
    for (const t of c.batch) {
      for (const s of t.sequences) mirror.put(s, t.position, t.token);
      out.push(mirror.tokens(t.sequences[0]).filter((x): x is number => x !== undefined));
    }
  }
  return out;
}
