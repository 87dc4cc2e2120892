/** Registers RPC servers with the loaded llama.cpp as devices that a model's layers can be placed on. */
import type { NativeBinding } from "../native.js";
import { probeRpcEndpoint, RpcServerError } from "./rpcEndpoints.js";
import { rpcBackendModule } from "./rpcRuntime.js";

/** Devices already registered per endpoint: llama.cpp keeps one registry per endpoint for the process's life. */
const registered = new Map<string, string[]>();

/** The device names of the given servers, in order; each server is checked to answer before llama.cpp connects. */
export async function rpcDevices(native: NativeBinding, endpoints: readonly string[], probeTimeoutMs: number): Promise<string[]> {
  if (!native.buildInfo().rpc) native.loadBackend(rpcBackendModule());
  const names: string[] = [];
  for (const endpoint of endpoints) {
    let devices = registered.get(endpoint);
    if (!devices) {
      await probeRpcEndpoint(endpoint, probeTimeoutMs);
      devices = native.addRpcServer(endpoint);
      if (devices.length === 0) throw new RpcServerError(`RPC server ${endpoint} offers no devices`);
      registered.set(endpoint, devices);
    }
    names.push(...devices);
  }
  return names;
}
