/** The delay proxy's process: `delayProxyMain.js <upstream host:port> <delay ms>`; sends its port to the parent. */
import type net from "node:net";
import { listenDelayProxy } from "./delayProxy.js";

const [upstream, delay] = process.argv.slice(2);
const server = await listenDelayProxy(upstream, Number(delay));
process.send?.((server.address() as net.AddressInfo).port);
process.on("disconnect", () => process.exit(0));
