/** Where the target runs: the command-line options shared by `generate` and `bench` (local, or llama.cpp RPC servers). */
import { type Command, InvalidArgumentError, Option } from "commander";
import type { DecodeThread } from "../backends/llamaCpp/llamaCppModel.js";
import { parseRpcEndpoints } from "../backends/llamaCpp/rpc/rpcEndpoints.js";
import { DEFAULT_CALL_TIMEOUT_MS, type ProcessModelOptions } from "../backends/llamaCpp/worker/processModel.js";
import { nonNegativeInteger } from "./optionParsers.js";

export interface PlacementFlags {
  device?: "cpu" | "gpu";
  draftDevice?: "cpu" | "gpu";
  gpuLayers?: number;
  f32Cache?: boolean;
  batchInvariant?: boolean;
  targetRpc?: string[];
  tensorSplit?: number[];
  rpcTimeout?: number;
}

function endpoints(value: string): string[] {
  try {
    return parseRpcEndpoints(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function shares(value: string): number[] {
  const out = value.split(",").map((x) => Number(x.trim()));
  if (out.some((x) => !Number.isFinite(x) || x < 0) || !out.some((x) => x > 0))
    throw new InvalidArgumentError(`expected comma-separated non-negative shares, not all zero, got "${value}"`);
  return out;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number of seconds, got "${value}"`);
  return n;
}

export function addPlacementOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--device <kind>", "where both models run: cpu, or gpu (needs a llama.cpp built with CUDA, see npm run build:llama)").choices(["cpu", "gpu"]),
    )
    .addOption(new Option("--draft-device <kind>", "where the drafter runs, if not where --device says").choices(["cpu", "gpu"]))
    .option("--f32-cache", "keep the target's KV cache in float32: batch-shape rounding differences then stay tiny instead of being rounded to float16")
    .option(
      "--batch-invariant",
      "GPU: after the prompt's prefill, compute every target token the same way whatever the pass's size, so greedy text equals target-only decoding bit for bit (verispec's CUDA build of llama.cpp; passes cost a little more)",
    )
    .option("--gpu-layers <n>", "target layers to offload to the GPU (default: all)", nonNegativeInteger)
    .option("--target-rpc <host:port,...>", "put the target's layers on these llama.cpp RPC servers (ggml-rpc-server); the drafter stays local", endpoints)
    .option("--tensor-split <shares>", "with --target-rpc: share of the layers per server, e.g. 3,1", shares)
    .option(
      "--rpc-timeout <seconds>",
      `with --target-rpc: longest wait for one target pass before the servers count as failed (default ${DEFAULT_CALL_TIMEOUT_MS / 1000})`,
      seconds,
    );
}

/** Load options for the target; threads apply to its local part. */
export function targetLoadOptions(f: PlacementFlags, threads: number | undefined, decodeOn: DecodeThread = "worker"): ProcessModelOptions {
  if (!f.targetRpc && (f.tensorSplit || f.rpcTimeout)) throw new RangeError("--tensor-split and --rpc-timeout need --target-rpc");
  return {
    threads,
    decodeOn,
    device: f.device,
    gpuLayers: f.gpuLayers,
    f32Cache: f.f32Cache,
    batchInvariant: f.batchInvariant,
    rpcServers: f.targetRpc,
    tensorSplit: f.tensorSplit,
    callTimeoutMs: f.rpcTimeout ? f.rpcTimeout * 1000 : undefined,
  };
}

/** Load options for the drafter: always local, on the device asked for. */
export function drafterLoadOptions(f: PlacementFlags, threads: number | undefined, decodeOn: DecodeThread = "worker"): ProcessModelOptions {
  return { threads, device: f.draftDevice ?? f.device, decodeOn };
}
