/**
 * `verispec serve`'s HTTP side: OpenAI-compatible routes over node:http.
 *   POST /v1/completions, /v1/chat/completions (stream: true for server-sent events; a JSON body)
 *   GET  /v1/models, /health (503 while the models load, 200 when ready), /metrics (Prometheus text)
 * With an API key, every route but /health wants `Authorization: Bearer <key>` (401 otherwise). Bad input
 * gets an OpenAI error object and touches nothing else; a known route asked with another method is a 405.
 * `shutdown` drains: new requests get 503 while those in flight finish, for a grace period.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApiError, asApiError, shuttingDown } from "./apiErrors.js";
import { handleGeneration, sendError, sendJson } from "./generationHandler.js";
import { checkApiKey, checkJsonContentType, checkMethod } from "./requestChecks.js";
import { type GenerationJob, parseJob } from "./requestParsing.js";
import { ServerMetrics } from "./serverMetrics.js";
import type { ServingEngine } from "./servingEngine.js";

export interface ServerOptions {
  host: string;
  port: number;
  apiKey?: string;
  /** Longest a generation may run, in ms. */
  timeoutMs?: number;
  /** Largest request body accepted, in bytes; 4 MiB by default. */
  maxBodyBytes?: number;
}

const ROUTES: Record<string, "GET" | "POST"> = {
  "/v1/completions": "POST",
  "/v1/chat/completions": "POST",
  "/v1/models": "GET",
  "/health": "GET",
  "/metrics": "GET",
};
const GENERATION_ROUTES: Record<string, GenerationJob["kind"]> = { "/v1/completions": "completion", "/v1/chat/completions": "chat" };

export class VerispecServer {
  private engine: ServingEngine | undefined;
  private loadError: unknown;
  private readonly http: Server;
  private metrics: ServerMetrics | undefined;
  /** When the server started, in Unix seconds: the model's `created` where its file's time is unknown. */
  private readonly started = Math.floor(Date.now() / 1000);
  /** Requests being answered; shutdown waits for them. */
  private readonly inFlight = new Set<Promise<void>>();
  private draining = false;
  private readonly shutdownAbort = new AbortController();

  constructor(
    engine: Promise<ServingEngine>,
    private readonly o: ServerOptions,
  ) {
    engine.then(
      (e) => {
        this.engine = e;
        this.metrics = new ServerMetrics({
          processing: () => e.scheduler.activeRequests,
          deferred: () => e.scheduler.waitingRequests,
          headSessions: () => e.headSessions(),
        });
      },
      (error) => {
        this.loadError = error;
      },
    );
    this.http = createServer((req, res) => {
      const answered = this.route(req, res).catch((error) => sendError(res, asApiError(error)));
      this.inFlight.add(answered);
      answered.finally(() => this.inFlight.delete(answered));
    });
  }

  /** Starts listening; resolves with the address (port 0 picks a free one). */
  listen(): Promise<{ host: string; port: number; url: string }> {
    return new Promise((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(this.o.port, this.o.host, () => {
        const a = this.http.address() as AddressInfo;
        resolve({ host: a.address, port: a.port, url: `http://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}` });
      });
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
    await this.engine?.close();
  }

  /**
   * Stops taking requests (503 from now on) and lets those in flight finish for up to `graceMs`; then ends the rest
   * with a shutdown error (a stream: an error event and `data: [DONE]`) and closes. Resolves once closed.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.draining = true;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
    });
    const finished = await Promise.race([Promise.all(this.inFlight).then(() => true), grace]);
    clearTimeout(timer);
    if (!finished) {
      this.shutdownAbort.abort();
      await Promise.all(this.inFlight);
    }
    await this.close();
  }

  /** Requests being answered now. */
  get requestsInFlight(): number {
    return this.inFlight.size;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    const method = ROUTES[path];
    if (!method) throw new ApiError(404, `no route ${req.method} ${path}`, "not_found_error");
    checkMethod(req, path, method);
    if (path === "/health") return this.health(res);
    if (this.draining) throw shuttingDown();
    checkApiKey(req, this.o.apiKey);
    const engine = this.ready();
    const kind = GENERATION_ROUTES[path];
    if (kind) {
      checkJsonContentType(req);
      const job = parseJob(await this.readJson(req), kind);
      const ctx = { engine, metrics: this.metrics!, timeoutMs: this.o.timeoutMs, shutdown: this.shutdownAbort.signal };
      return handleGeneration(ctx, job, res);
    }
    if (path === "/v1/models") return sendJson(res, 200, this.models(engine));
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(this.metrics!.render());
  }

  private health(res: ServerResponse): void {
    if (this.loadError) sendJson(res, 500, { status: "error", error: asApiError(this.loadError).message });
    else if (this.draining) sendJson(res, 503, { status: "shutting_down" });
    else if (!this.engine) sendJson(res, 503, { status: "loading" });
    else sendJson(res, 200, { status: "ok", slots_processing: this.engine.scheduler.activeRequests, requests_deferred: this.engine.scheduler.waitingRequests });
  }

  private ready(): ServingEngine {
    if (this.engine) return this.engine;
    if (this.loadError) throw new ApiError(500, `the models failed to load: ${asApiError(this.loadError).message}`, "server_error");
    throw new ApiError(503, "the models are still loading", "server_error");
  }

  private models(engine: ServingEngine): object {
    const m = engine.served;
    const meta = { n_ctx_slot: m.contextSize, parallel: m.parallel, policy: m.policy, k: m.k, draft: m.draft ?? null, chat_template: m.chatTemplate };
    return { object: "list", data: [{ id: m.id, object: "model", created: m.created ?? this.started, owned_by: "verispec", meta }] };
  }

  private async readJson(req: IncomingMessage): Promise<unknown> {
    const limit = this.o.maxBodyBytes ?? 4 << 20;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > limit) throw new ApiError(413, `the request body is over ${limit} bytes`);
      chunks.push(chunk);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (error) {
      throw new ApiError(400, `the request body is not valid JSON: ${(error as Error).message}`);
    }
  }
}
