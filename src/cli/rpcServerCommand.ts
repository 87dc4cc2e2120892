/** `verispec rpc-server`: runs llama.cpp's ggml-rpc-server (built by `npm run build:rpc`) until interrupted. */
import type { Command } from "commander";
import { startRpcServer } from "../backends/llamaCpp/rpc/rpcServer.js";
import { positiveInteger } from "./optionParsers.js";

interface RpcServerFlags {
  host: string;
  port?: number;
  threads: number;
  device?: string;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

async function runRpcServer(f: RpcServerFlags): Promise<void> {
  if (!LOOPBACK.has(f.host))
    process.stderr.write(
      `verispec: warning: ${f.host} exposes an unauthenticated RPC server: anyone who reaches the port can run computations on this machine and read its memory there. Use it only on a network you trust.\n`,
    );
  const server = await startRpcServer({ host: f.host, port: f.port, threads: f.threads, devices: f.device?.split(",") });
  process.stdout.write(`ggml-rpc-server listening on ${server.endpoint}; point a target at it with --target-rpc ${server.endpoint} (Ctrl-C stops it)\n`);
  const stop = () => void server.stop();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await new Promise<void>((resolve) => server.process.once("exit", () => resolve()));
}

export function registerRpcServer(program: Command): void {
  program
    .command("rpc-server")
    .description("serve this machine's CPU or GPU to a target on another machine (llama.cpp's ggml-rpc-server)")
    .option("--host <address>", "address to bind (anything but loopback exposes an unauthenticated server)", "127.0.0.1")
    .option("--port <n>", "port (default: a free one)", positiveInteger)
    .option("--threads <n>", "CPU threads", positiveInteger, 1)
    .option("--device <names>", "devices to serve, comma-separated (default: all)")
    .action(runRpcServer);
}
