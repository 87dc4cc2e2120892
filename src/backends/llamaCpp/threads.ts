/** Default thread count: the number of physical cores (hyper-threads slow llama.cpp's matrix work down). */
import { readFileSync } from "node:fs";
import os from "node:os";

/** Physical cores from /proc/cpuinfo (distinct physical id + core id pairs), else the logical count. */
export function physicalCoreCount(): number {
  try {
    const cores = new Set<string>();
    let physical = "0";
    for (const line of readFileSync("/proc/cpuinfo", "utf8").split("\n")) {
      const [key, value] = line.split(":").map((s) => s?.trim());
      if (key === "physical id") physical = value;
      if (key === "core id") cores.add(`${physical}/${value}`);
    }
    if (cores.size > 0) return cores.size;
  } catch {
    // Not Linux: fall through to the logical count.
  }
  return Math.max(1, os.availableParallelism());
}
