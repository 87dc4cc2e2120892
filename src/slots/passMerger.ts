/**
 * The one place where passes of many slots are merged: every SharedModel's slots hand their passes to the
 * PassMerger, and `merge` sends everything it holds to the backends, one backend call per shared model and kind
 * (an evaluate of every slot's batch; a greedy run of every slot's run, per summary kind). Drafter runs and target
 * passes are merged alike:
 * - a scheduler's target step hands over its parts, merged at once by themselves (`mergeNow`);
 * - a scheduler plans its requests in a `round`: each request's planning is a party, and whenever every party
 *   that has not finished waits for a pass, the round merges (the drafters step side by side in shared passes).
 *   That is a count, not a moment: nothing rests on what the event loop runs when.
 * A pass asked for outside any round is merged at once (a pass of its own). Every SharedModel shares the one merger
 * of the process (PROCESS_MERGER): drafter models are made apart from the scheduler whose steps draft on them, and
 * a round must see every slot its parties draft on, whichever model it belongs to (two rounds open at once, of two
 * schedulers, count their parties together: a merge then waits for both, and merges both).
 * A party that drafts on a session of its own (a drafter model not shared through a SharedModel) never waits here:
 * the others' merged passes then wait until it has drafted its block.
 */
import type { GreedyRun, LogitRows, RunSummaryKind } from "../model/rows.js";
import type { BatchToken, ModelSession } from "../model/session.js";
import type { RunPart } from "./sharedRuns.js";

/** One slot's part of a merged pass. */
export interface SlotPass {
  session: ModelSession;
  batch: readonly BatchToken[];
}

/** What a merge hands a shared model: its slots' parts, each group in one backend call (more where they exceed its batch size). */
export interface MergeSink {
  /** Evaluates slots' batches (already validated) together; rows come back per part. */
  evaluateParts(parts: readonly SlotPass[]): Promise<LogitRows[]>;
  /** Runs slots' greedy runs of one summary kind together; runs come back per part. */
  runParts(parts: readonly RunPart[], summary: RunSummaryKind | undefined): Promise<GreedyRun[]>;
}

interface Settle<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A slot's evaluate waiting for the next merge. */
interface QueuedEvaluate extends Settle<LogitRows> {
  sink: MergeSink;
  kind: "evaluate";
  part: SlotPass;
}

/** A slot's run waiting for the next merge. */
interface QueuedRun extends Settle<GreedyRun> {
  sink: MergeSink;
  kind: "run";
  part: RunPart;
  summary: RunSummaryKind | undefined;
}

/** A pass waiting for the next merge: an evaluate or a run, with what each needs and gives. */
type Queued = QueuedEvaluate | QueuedRun;

export class PassMerger {
  private queued: Queued[] = [];
  /** Parties of the open rounds that have not finished. */
  private parties = 0;

  /** Whether a pass for this sink waits for the next merge. */
  holds(sink: MergeSink): boolean {
    return this.queued.some((q) => q.sink === sink);
  }

  /** A slot's evaluate, merged with the others' at the next merge. */
  evaluate(sink: MergeSink, part: SlotPass): Promise<LogitRows> {
    return new Promise((resolve, reject) => this.ask({ sink, kind: "evaluate", part, resolve, reject }));
  }

  /** A slot's greedy run, merged with the other slots' runs of its summary kind at the next merge. */
  run(sink: MergeSink, part: RunPart, summary: RunSummaryKind | undefined): Promise<GreedyRun> {
    return new Promise((resolve, reject) => this.ask({ sink, kind: "run", part, summary, resolve, reject }));
  }

  /**
   * Slots' evaluates handed over together (a scheduler's target step), merged now, by themselves: passes waiting for
   * a round's merge (another scheduler's drafters) keep waiting for it.
   */
  mergeNow(sink: MergeSink, parts: readonly SlotPass[]): Promise<LogitRows[]> {
    const passes: Queued[] = [];
    const rows = parts.map((part) => new Promise<LogitRows>((resolve, reject) => passes.push({ sink, kind: "evaluate", part, resolve, reject })));
    send(passes);
    return Promise.all(rows);
  }

  /**
   * Runs the tasks side by side as parties of one round, merging whenever every party still running waits for a
   * pass (or when the last one ends with passes waiting). The results come back in order.
   */
  round<T>(tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
    this.parties += tasks.length;
    return Promise.all(tasks.map((task) => this.party(task)));
  }

  /** Sends every waiting pass to its backend (see send). */
  merge(): void {
    const queued = this.queued;
    this.queued = [];
    send(queued);
  }

  private async party<T>(task: () => Promise<T>): Promise<T> {
    try {
      return await task();
    } finally {
      this.parties--;
      this.mergeIfAllWait();
    }
  }

  private ask(pass: Queued): void {
    this.queued.push(pass);
    this.mergeIfAllWait();
  }

  /** Merges once every running party waits (at once where no round is open). */
  private mergeIfAllWait(): void {
    if (this.queued.length > 0 && this.queued.length >= this.parties) this.merge();
  }
}

/**
 * Sends passes to their backends: per sink, its runs in one call per summary kind, then its evaluates in one call.
 * The evaluates come last: a run's tokens and summaries are plain data, but an evaluate's rows are views of the
 * session's last pass, valid until its next, and the sink's next pass is then the next merge, which waits for every
 * party of the round, those still reading their rows included.
 */
function send(passes: readonly Queued[]): void {
  for (const sink of new Set(passes.map((q) => q.sink))) {
    const runs = passes.filter((q): q is QueuedRun => q.sink === sink && q.kind === "run");
    for (const summary of new Set(runs.map((q) => q.summary))) {
      const group = runs.filter((q) => q.summary === summary);
      settleAll(
        group,
        sink.runParts(
          group.map((q) => q.part),
          summary,
        ),
      );
    }
    const evaluates = passes.filter((q): q is QueuedEvaluate => q.sink === sink && q.kind === "evaluate");
    if (evaluates.length > 0) settleAll(evaluates, sink.evaluateParts(evaluates.map((q) => q.part)));
  }
}

/** Settles each pass with its result of the merged call, or all of them with its error. */
function settleAll<T>(passes: readonly Settle<T>[], results: Promise<T[]>): void {
  results.then(
    (out) => {
      for (const [i, p] of passes.entries()) p.resolve(out[i]);
    },
    (error) => {
      for (const p of passes) p.reject(error);
    },
  );
}

/** The merger every SharedModel of the process hands its slots' passes to (see the module's comment). */
export const PROCESS_MERGER = new PassMerger();
