/** `verispec info`: the llama.cpp build verispec runs on, its backends and devices (RPC servers' devices too). */
import type { Command } from "commander";
import { type NativeBuildInfo, type NativeDevice, nativeBinding } from "../backends/llamaCpp/native.js";
import { listDevices } from "../backends/llamaCpp/worker/processModel.js";
import { addPlacementOptions, type PlacementFlags, targetLoadOptions } from "./targetPlacement.js";

interface InfoFlags extends PlacementFlags {
  json?: boolean;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

function invariance(build: NativeBuildInfo): string {
  if (!build.batchInvariance) return "not in these libraries (verispec's CUDA build has it)";
  if (!build.stockPasses) return "patched, but no CUDA backend with stock prefills is loaded (it needs verispec's current CUDA build)";
  return "available (verispec's patched llama.cpp; prefills and drafters keep the stock kernels)";
}

function describe(build: NativeBuildInfo, devices: NativeDevice[]): string {
  return [
    `llama.cpp libraries: ${build.libraryDir}`,
    `backends: ${build.backends.join(", ")} (GPU offload: ${build.gpuOffload ? "yes" : "no"}, RPC: ${build.rpc ? "loaded" : "not loaded"})`,
    `batch invariance (--batch-invariant): ${invariance(build)}`,
    `CPU features: ${build.systemInfo}`,
    "devices:",
    ...devices.map(
      (d) => `  ${d.name.padEnd(8)} ${d.type.padEnd(4)} ${d.backend.padEnd(5)} ${d.description} (${gib(d.memoryFree)} free of ${gib(d.memoryTotal)})`,
    ),
  ].join("\n");
}

async function runInfo(f: InfoFlags): Promise<void> {
  const { rpcServers, callTimeoutMs } = targetLoadOptions(f, undefined);
  // RPC servers are asked from a worker process, so that one that stalls or dies cannot hang or end this one.
  const { build, devices } = rpcServers
    ? await listDevices([...rpcServers], callTimeoutMs)
    : { build: nativeBinding().buildInfo(), devices: nativeBinding().devices() };
  process.stdout.write(f.json ? `${JSON.stringify({ build, devices }, null, 2)}\n` : `${describe(build, devices)}\n`);
}

export function registerInfo(program: Command): void {
  const command = program
    .command("info")
    .description("show the llama.cpp build, its backends and devices (with --target-rpc, the RPC servers' devices)")
    .option("--json", "print JSON");
  addPlacementOptions(command).action(runInfo);
}
