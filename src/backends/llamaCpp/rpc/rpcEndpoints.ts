/** RPC server endpoints ("host:port"): parsing, and a reachability check made before llama.cpp connects (it aborts the process when it cannot). */
import net from "node:net";

/** An RPC server that is missing, refuses, stalls or died; the message names the endpoint. */
export class RpcServerError extends Error {
  override name = "RpcServerError";
}

/** Splits "host:port[,host:port...]" (IPv6 hosts in brackets) into checked "host:port" strings. */
export function parseRpcEndpoints(list: string): string[] {
  const endpoints = list
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  if (endpoints.length === 0) throw new RangeError("no RPC server given: expected host:port[,host:port...]");
  for (const e of endpoints) splitEndpoint(e);
  if (new Set(endpoints).size !== endpoints.length) throw new RangeError(`an RPC server is listed twice in ${list}`);
  return endpoints;
}

/** The host and port of "host:port" or "[v6]:port". */
export function splitEndpoint(endpoint: string): { host: string; port: number } {
  const colon = endpoint.lastIndexOf(":");
  const host = endpoint.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  const port = Number(endpoint.slice(colon + 1));
  if (colon <= 0 || host.length === 0 || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new RangeError(`invalid RPC server "${endpoint}": expected host:port with a port in 1..65535`);
  return { host, port };
}

/** Resolves once a TCP connection to the endpoint opens; rejects with RpcServerError on refusal or after timeoutMs. */
export function probeRpcEndpoint(endpoint: string, timeoutMs: number): Promise<void> {
  const { host, port } = splitEndpoint(endpoint);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (why: string) => {
      socket.destroy();
      reject(new RpcServerError(`RPC server ${endpoint} is not reachable: ${why}`));
    };
    socket.setTimeout(timeoutMs, () => fail(`no connection within ${timeoutMs} ms`));
    socket.once("error", (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
    socket.once("connect", () => {
      socket.destroy();
      resolve();
    });
  });
}
