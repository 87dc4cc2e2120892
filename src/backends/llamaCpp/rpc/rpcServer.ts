/**
 * Starts llama.cpp's ggml-rpc-server as a child process. It binds 127.0.0.1 unless told otherwise: the RPC
 * protocol has no authentication, so anyone who can reach the port can run computations and read memory there.
 */
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { probeRpcEndpoint, RpcServerError } from "./rpcEndpoints.js";
import { rpcServerBinary } from "./rpcRuntime.js";

export interface RpcServerOptions {
  /** Address to bind; 127.0.0.1 by default. Anything else exposes an unauthenticated server to that network. */
  host?: string;
  /** Port; a free one when omitted. */
  port?: number;
  /** CPU threads of the server; 1 by default. */
  threads?: number;
  /** Devices of that machine to serve (names as ggml lists them), all by default. */
  devices?: string[];
  /** How long to wait for the server to accept connections. */
  startTimeoutMs?: number;
}

export interface RpcServerHandle {
  readonly endpoint: string;
  readonly process: ChildProcess;
  /** Ends the server (SIGTERM, then SIGKILL after a second) and waits for it. */
  stop(): Promise<void>;
}

/** A port nobody listens on right now. */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function serverArgs(host: string, port: number, o: RpcServerOptions): string[] {
  return ["-H", host, "-p", String(port), "-t", String(o.threads ?? 1), ...(o.devices ? ["-d", o.devices.join(",")] : [])];
}

export async function startRpcServer(options: RpcServerOptions = {}): Promise<RpcServerHandle> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? (await freePort(host));
  const endpoint = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const child = spawn(rpcServerBinary(), serverArgs(host, port, options), { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr?.on("data", (d: Buffer) => {
    log = (log + d.toString()).slice(-2000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 1000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      await probeRpcEndpoint(endpoint, 500);
      return { endpoint, process: child, stop };
    } catch {
      await sleep(50);
    }
  }
  await stop();
  throw new RpcServerError(`ggml-rpc-server did not start on ${endpoint}: ${log.trim().split("\n").slice(-3).join(" / ") || "no output"}`);
}
