/** Locating files of the installed verispec package (native binding, embedded models). */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** The folder of verispec's package.json, found upwards from this module (works from src/ and dist/). */
export function packageRoot(): string {
  if (cached) return cached;
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).name === "verispec") {
      cached = dir;
      return dir;
    }
    if (path.dirname(dir) === dir) throw new Error("cannot find verispec's package.json above its modules");
  }
}
