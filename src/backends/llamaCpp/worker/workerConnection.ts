/**
 * A worker process and its calls. Every call has a deadline: a worker that does not answer in time (an RPC
 * server that stalls) is killed, one that dies (llama.cpp aborts when an RPC server goes away) ends every
 * call; either way the owner gets an error naming what failed, and this process goes on.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { WorkerCallKind, WorkerCalls, WorkerReply, WorkerRequest } from "./workerProtocol.js";

const WORKER_MAIN = fileURLToPath(new URL("./workerMain.js", import.meta.url));

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** Rebuilds an error the worker reported, keeping the kinds callers tell apart by class. */
export type ErrorFactory = (name: string, message: string) => Error;

export class WorkerConnection {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | undefined;
  private stderrTail = "";

  private constructor(
    private readonly child: ChildProcess,
    private readonly label: string,
    private readonly makeError: ErrorFactory,
  ) {
    child.stderr?.on("data", (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
    });
    child.on("message", (reply: WorkerReply) => this.settle(reply));
    child.on("exit", (code, signal) => this.fail(`its worker process ended (${signal ?? `exit code ${code}`})${this.lastWords()}`));
    child.unref();
    this.idle();
  }

  /** Starts a worker; `label` names what it runs in error messages ("the target on RPC servers ..."). */
  static start(label: string, makeError: ErrorFactory): WorkerConnection {
    const child = fork(WORKER_MAIN, [], { serialization: "advanced", stdio: ["ignore", "ignore", "pipe", "ipc"], execArgv: [] });
    return new WorkerConnection(child, label, makeError);
  }

  /** The error every call gets once the worker failed (undefined while it is healthy). */
  get failed(): Error | undefined {
    return this.failure;
  }

  call<K extends WorkerCallKind>(kind: K, call: WorkerCalls[K]["call"], timeoutMs: number): Promise<WorkerCalls[K]["result"]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(`it did not answer its ${kind} call within ${timeoutMs} ms; its worker process was stopped`);
        this.child.kill("SIGKILL");
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.busy();
      this.child.send({ id, kind, ...call } as WorkerRequest);
    });
  }

  /** Ends the worker (its model and sessions go with it). */
  close(): void {
    if (!this.failure) this.fail("it was disposed");
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }

  private settle(reply: WorkerReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    clearTimeout(p.timer);
    if (this.pending.size === 0) this.idle();
    if (reply.ok) p.resolve(reply.value);
    else p.reject(this.makeError(reply.error.name, reply.error.message));
  }

  private fail(why: string): void {
    if (this.failure) return;
    this.failure = this.makeError("WorkerFailure", `${this.label} failed: ${why}`);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(this.failure);
    }
    this.pending.clear();
    this.idle();
  }

  private lastWords(): string {
    const lines = this.stderrTail.split("\n").filter((l) => l.trim() && !l.startsWith("load_backend"));
    return lines.length > 0 ? `; it said: ${lines.slice(-2).join(" / ")}` : "";
  }

  // The worker keeps this process alive only while a call waits for it.
  private busy(): void {
    this.child.channel?.ref();
  }
  private idle(): void {
    this.child.channel?.unref();
  }
}
