#!/usr/bin/env node
/**
 * The verispec command line. Errors print one line (set VERISPEC_DEBUG=1 for the stack) and exit with status 1;
 * usage errors too (commander's suggestion and our help hint joined to its message).
 */
import { setFlagsFromString } from "node:v8";
import { Command } from "commander";
import { registerBench } from "./benchCommand.js";
import { registerBenchServe } from "./benchServeCommand.js";
import { registerEmbed } from "./embedCommand.js";
import { registerExport } from "./exportCommand.js";
import { registerGenerate } from "./generateCommand.js";
import { registerHeadCommands } from "./headCommands.js";
import { registerInfo } from "./infoCommand.js";
import { registerRpcServer } from "./rpcServerCommand.js";
import { registerServe } from "./serveCommand.js";

// Every function is compiled by V8's baseline compiler at its first call instead of running interpreted until it
// is hot: a generation of a few hundred steps otherwise spends much of itself in the interpreter (measured on the
// step loop of a cold `generate`, the shipped pair on 2 cores: about 0.1 ms less per pass, fewer stalls).
setFlagsFromString("--always-sparkplug");

const program = new Command();
program
  .name("verispec")
  .description("Verifier-guided speculative decoding for GGUF models, lossless")
  // Subcommands copy this when they are made (below).
  .configureOutput({ outputError: (text, write) => write(`${usageErrorLine(text)}\n`) });
registerGenerate(program);
registerExport(program);
registerEmbed(program);
registerBench(program);
registerBenchServe(program);
registerHeadCommands(program);
registerInfo(program);
registerRpcServer(program);
registerServe(program);

/** commander's "error: ...\n(Did you mean --x?)\n" as one line of ours, with the help hint. */
function usageErrorLine(text: string): string {
  const message = text
    .trim()
    .replace(/^error: /, "")
    .replace(/\s*\n\s*/g, " ");
  return `verispec: ${message} (run with --help for usage)`;
}

program.parseAsync(process.argv).catch((e: unknown) => {
  const err = e instanceof Error ? e : new Error(String(e));
  process.stderr.write(`verispec: ${process.env.VERISPEC_DEBUG === "1" ? err.stack : err.message}\n`);
  // Now, not when the event loop empties: a server's socket or a model still loading must not keep it alive.
  process.exit(1);
});
