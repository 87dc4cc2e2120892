/** Where scripts/buildRpc.mjs puts llama.cpp's RPC backend module and ggml-rpc-server (`npm run build:rpc`). */
import { existsSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "../../../util/packageRoot.js";

const BUILD_HINT = "node-llama-cpp's prebuilt libraries have no RPC backend; build it from the bundled llama.cpp source with `npm run build:rpc`";

function runtimeFile(name: string): string {
  const file = path.join(process.env.VERISPEC_RPC_RUNTIME ?? path.join(packageRoot(), "native", ".llama-build", "rpc", "runtime"), name);
  if (!existsSync(file)) throw new Error(`${file} is missing: ${BUILD_HINT}`);
  return file;
}

/** The RPC backend, a ggml module loaded into the prebuilt llama.cpp. */
export const rpcBackendModule = (): string => runtimeFile("libggml-rpc.so");

/** llama.cpp's ggml-rpc-server, built from the same source. */
export const rpcServerBinary = (): string => runtimeFile("ggml-rpc-server");
