/** Progress while the benchmark runs: a bar with ETA on a terminal, plain lines otherwise. */
import { SingleBar } from "cli-progress";

export interface Progress {
  tick(label: string): void;
  stop(): void;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const m = Math.floor(seconds / 60);
  return m ? `${m}m${Math.round(seconds % 60)}s` : `${Math.round(seconds)}s`;
}

class PlainProgress implements Progress {
  private done = 0;
  private readonly start = performance.now();
  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WritableStream,
  ) {}

  tick(label: string): void {
    this.done++;
    const elapsed = (performance.now() - this.start) / 1000;
    const eta = (elapsed / this.done) * (this.total - this.done);
    this.out.write(`[${this.done}/${this.total}] ${label} (ETA ${duration(eta)})\n`);
  }

  stop(): void {}
}

class BarProgress implements Progress {
  private readonly bar: SingleBar;
  constructor(total: number, stream: NodeJS.WriteStream) {
    this.bar = new SingleBar({ format: "{bar} {value}/{total} | ETA {eta_formatted} | {label}", stream, hideCursor: true });
    this.bar.start(total, 0, { label: "" });
  }

  tick(label: string): void {
    this.bar.increment(1, { label });
  }

  stop(): void {
    this.bar.stop();
  }
}

export function createProgress(total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  return stream.isTTY ? new BarProgress(total, stream) : new PlainProgress(total, stream);
}
