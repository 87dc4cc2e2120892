/**
 * The server's counters, in Prometheus text at /metrics, under the names people already graph: llama.cpp's
 * server (tokens predicted, prompt tokens, requests processing and deferred), vLLM's speculative decoding
 * (drafts, draft tokens, accepted tokens, accepted tokens per draft position) and vLLM's latency histograms
 * (time to first token, inter-token latency, end-to-end latency, queue time), with the prefix `verispec:`
 * where vLLM's is `vllm:`.
 */
import type { StepEvent } from "../generation/generationTypes.js";
import { Histogram, INTER_TOKEN_BUCKETS, REQUEST_BUCKETS, TTFT_BUCKETS } from "./latencyHistogram.js";

const PREFIX = "verispec:";

export interface QueueGauges {
  processing(): number;
  deferred(): number;
  /** Feature head sessions open (each a llama.cpp context of its own), where the server drafts with a head. */
  headSessions?(): number | undefined;
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
  /** Seconds from a request's arrival to its first generated token. */
  readonly timeToFirstToken = new Histogram(TTFT_BUCKETS);
  /** Seconds between a request's successive steps that emitted tokens (a step may emit several: vLLM counts one gap per step too). */
  readonly interTokenLatency = new Histogram(INTER_TOKEN_BUCKETS);
  /** Seconds from arrival to the last token, of requests that ended by themselves (stop or length). */
  readonly e2eRequestLatency = new Histogram(REQUEST_BUCKETS);
  /** Seconds from arrival to a slot. */
  readonly requestQueueTime = new Histogram(REQUEST_BUCKETS);

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
    const heads = this.gauges.headSessions?.();
    if (heads !== undefined) metric("head_sessions_open", "gauge", "EAGLE-3 head sessions open (one per request drafting with the head).", [["", heads]]);
    const ends = [...this.requestsByFinish].map(([how, n]): [string, number] => [`{finished_reason="${how}"}`, n]);
    metric("requests_finished_total", "counter", "Requests ended, by how they ended (stop, length, aborted, timeout, error, rejected).", ends);
    metric("spec_decode_num_drafts_total", "counter", "Blocks with at least one drafted token verified.", [["", this.drafts]]);
    metric("spec_decode_num_draft_tokens_total", "counter", "Drafted tokens verified.", [["", this.draftTokens]]);
    metric("spec_decode_num_accepted_tokens_total", "counter", "Drafted tokens accepted.", [["", this.acceptedTokens]]);
    const perPos = this.acceptedPerPosition.map((n, i): [string, number] => [`{position="${i}"}`, n]);
    metric("spec_decode_num_accepted_tokens_per_pos_total", "counter", "Drafted tokens accepted, by draft position.", perPos);
    const histogram = (name: string, help: string, h: Histogram) => {
      lines.push(`# HELP ${PREFIX}${name} ${help}`, `# TYPE ${PREFIX}${name} histogram`, ...h.samples(PREFIX + name));
    };
    histogram("time_to_first_token_seconds", "Time from a request's arrival to its first generated token.", this.timeToFirstToken);
    histogram("inter_token_latency_seconds", "Time between a request's successive steps that emitted tokens.", this.interTokenLatency);
    histogram("e2e_request_latency_seconds", "Time from arrival to the last token, of requests that ended by stop or length.", this.e2eRequestLatency);
    histogram("request_queue_time_seconds", "Time from a request's arrival to its slot.", this.requestQueueTime);
    return `${lines.join("\n")}\n`;
  }
}
