/**
 * The server's counters, in Prometheus text at /metrics, under the names people already graph: llama.cpp's
 * server (tokens predicted, prompt tokens, requests processing and deferred) and vLLM's speculative decoding
 * (drafts, draft tokens, accepted tokens, accepted tokens per draft position), with the prefix `verispec:`.
 */
import type { StepEvent } from "../generation/generationTypes.js";

const PREFIX = "verispec:";

export interface QueueGauges {
  processing(): number;
  deferred(): number;
}

export class ServerMetrics {
  promptTokens = 0;
  tokensPredicted = 0;
  drafts = 0;
  draftTokens = 0;
  acceptedTokens = 0;
  /** acceptedPerPosition[i]: drafted tokens at position i that were accepted. */
  readonly acceptedPerPosition: number[] = [];
  readonly requestsByFinish = new Map<string, number>();

  constructor(private readonly gauges: QueueGauges) {}

  recordPrompt(tokens: number): void {
    this.promptTokens += tokens;
  }

  recordStep(step: StepEvent): void {
    this.tokensPredicted += step.tokens.length;
    if (step.drafted === 0) return;
    this.drafts++;
    this.draftTokens += step.drafted;
    this.acceptedTokens += step.accepted;
    for (let i = 0; i < step.accepted; i++) this.acceptedPerPosition[i] = (this.acceptedPerPosition[i] ?? 0) + 1;
  }

  /** A request ended: "stop", "length", "aborted", "error", "rejected". */
  recordEnd(how: string): void {
    this.requestsByFinish.set(how, (this.requestsByFinish.get(how) ?? 0) + 1);
  }

  /** Prometheus text exposition format. */
  render(): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${PREFIX}${name} ${help}`, `# TYPE ${PREFIX}${name} ${type}`);
      for (const [labels, v] of samples) lines.push(`${PREFIX}${name}${labels} ${v}`);
    };
    metric("prompt_tokens_total", "counter", "Prompt tokens processed.", [["", this.promptTokens]]);
    metric("tokens_predicted_total", "counter", "Tokens generated.", [["", this.tokensPredicted]]);
    metric("requests_processing", "gauge", "Requests generating now.", [["", this.gauges.processing()]]);
    metric("requests_deferred", "gauge", "Requests waiting for a slot.", [["", this.gauges.deferred()]]);
    const ends = [...this.requestsByFinish].map(([how, n]): [string, number] => [`{finished_reason="${how}"}`, n]);
    metric("requests_finished_total", "counter", "Requests ended, by how they ended (stop, length, aborted, timeout, error, rejected).", ends);
    metric("spec_decode_num_drafts_total", "counter", "Blocks with at least one drafted token verified.", [["", this.drafts]]);
    metric("spec_decode_num_draft_tokens_total", "counter", "Drafted tokens verified.", [["", this.draftTokens]]);
    metric("spec_decode_num_accepted_tokens_total", "counter", "Drafted tokens accepted.", [["", this.acceptedTokens]]);
    const perPos = this.acceptedPerPosition.map((n, i): [string, number] => [`{position="${i}"}`, n]);
    metric("spec_decode_num_accepted_tokens_per_pos_total", "counter", "Drafted tokens accepted, by draft position.", perPos);
    return `${lines.join("\n")}\n`;
  }
}
