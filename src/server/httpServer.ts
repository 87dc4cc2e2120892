/**
 * `verispec serve`'s HTTP side: OpenAI-compatible routes over node:http.
 *   POST /v1/completions, /v1/chat/completions (stream: true for server-sent events)
 *   GET  /v1/models, /health (503 while the models load, 200 when ready), /metrics (Prometheus text)
 * With an API key, every route but /health wants `Authorization: Bearer <key>` (401 otherwise). Bad input
 * gets an OpenAI error object and touches nothing else.
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApiError, asApiError } from "./apiErrors.js";
import { handleGeneration, sendJson } from "./generationHandler.js";
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

const GENERATION_ROUTES: Record<string, GenerationJob["kind"]> = { "/v1/completions": "completion", "/v1/chat/completions": "chat" };

export class VerispecServer {
  private engine: ServingEngine | undefined;
  private loadError: unknown;
  private readonly http: Server;
  private metrics: ServerMetrics | undefined;

  constructor(
    engine: Promise<ServingEngine>,
    private readonly o: ServerOptions,
  ) {
    engine.then(
      (e) => {
        this.engine = e;
        this.metrics = new ServerMetrics({ processing: () => e.scheduler.activeRequests, deferred: () => e.scheduler.waitingRequests });
      },
      (error) => {
        this.loadError = error;
      },
    );
    this.http = createServer((req, res) => {
      this.route(req, res).catch((error) => {
        const e = asApiError(error);
        if (!res.headersSent) sendJson(res, e.status, e.body);
        else res.end();
      });
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

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/health") return this.health(res);
    this.authorize(req);
    const engine = this.ready();
    const kind = GENERATION_ROUTES[path];
    if (kind) {
      if (req.method !== "POST") throw new ApiError(405, `${path} takes POST`);
      const job = parseJob(await this.readJson(req), kind);
      return handleGeneration({ engine, metrics: this.metrics!, timeoutMs: this.o.timeoutMs }, job, res);
    }
    if (req.method !== "GET") throw new ApiError(404, `no route ${req.method} ${path}`, "not_found_error");
    if (path === "/v1/models") return sendJson(res, 200, this.models(engine));
    if (path === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      return void res.end(this.metrics!.render());
    }
    throw new ApiError(404, `no route GET ${path}`, "not_found_error");
  }

  private health(res: ServerResponse): void {
    if (this.loadError) sendJson(res, 500, { status: "error", error: asApiError(this.loadError).message });
    else if (!this.engine) sendJson(res, 503, { status: "loading" });
    else sendJson(res, 200, { status: "ok", slots_processing: this.engine.scheduler.activeRequests, requests_deferred: this.engine.scheduler.waitingRequests });
  }

  private ready(): ServingEngine {
    if (this.engine) return this.engine;
    if (this.loadError) throw new ApiError(500, `the models failed to load: ${asApiError(this.loadError).message}`, "server_error");
    throw new ApiError(503, "the models are still loading", "server_error");
  }

  private authorize(req: IncomingMessage): void {
    if (this.o.apiKey === undefined) return;
    const given = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "");
    const key = Buffer.from(this.o.apiKey);
    if (given.length !== key.length || !timingSafeEqual(given, key))
      throw new ApiError(401, "a valid API key is needed (Authorization: Bearer <key>)", "authentication_error", null, "invalid_api_key");
  }

  private models(engine: ServingEngine): object {
    const o = engine.o;
    const meta = {
      n_ctx_slot: o.contextSize,
      parallel: o.parallel,
      policy: o.policy,
      k: o.policyOptions.k,
      draft: o.draft?.name ?? null,
      chat_template: o.chatTemplate.kind,
    };
    return { object: "list", data: [{ id: o.modelId, object: "model", created: 0, owned_by: "verispec", meta }] };
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
