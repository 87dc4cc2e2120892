/**
 * A TCP proxy that adds a fixed delay to a link's round trip, for benchmarks of targets on RPC servers: every
 * chunk the server sends back is held for `delayMs` (Node's timers are good to about a millisecond). It runs in
 * a child process of its own (delayProxyMain.ts) so that its timers never wait on the benchmark's event loop.
 */
import { type ChildProcess, fork } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { splitEndpoint } from "../backends/llamaCpp/rpc/rpcEndpoints.js";

/** Listens on 127.0.0.1 (a free port) and forwards to `upstream`; resolves with the server once it listens. */
export function listenDelayProxy(upstream: string, delayMs: number): Promise<net.Server> {
  const { host, port } = splitEndpoint(upstream);
  const server = net.createServer((client) => {
    const link = net.connect({ host, port });
    client.setNoDelay(true);
    link.setNoDelay(true);
    client.on("data", (chunk) => link.write(chunk));
    // Timers of equal duration fire in the order they were set, so the byte stream keeps its order.
    link.on("data", (chunk) => (delayMs > 0 ? setTimeout(() => client.writable && client.write(chunk), delayMs) : client.write(chunk)));
    const close = () => {
      client.destroy();
      link.destroy();
    };
    for (const s of [client, link]) s.on("close", close).on("error", close);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

export interface DelayProxyHandle {
  readonly endpoint: string;
  stop(): void;
}

/** Starts a proxy in a child process; its endpoint stands in for `upstream` with `delayMs` more round trip. */
export function startDelayProxy(upstream: string, delayMs: number): Promise<DelayProxyHandle> {
  const main = fileURLToPath(new URL("./delayProxyMain.js", import.meta.url));
  const child: ChildProcess = fork(main, [upstream, String(delayMs)], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: [] });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the delay proxy for ${upstream} exited (${code})`)));
    child.once("message", (port: number) => {
      child.channel?.unref();
      resolve({ endpoint: `127.0.0.1:${port}`, stop: () => child.kill() });
    });
  });
}
