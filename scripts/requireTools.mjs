// The build tools the build scripts spawn: one missing stops the build with one line naming its Debian package,
// before anything is spawned (rather than a stack trace from the first spawn, or a half-done build).
import { statSync } from "node:fs";
import path from "node:path";

/** Tool -> Debian package, and environment variables that name another program in its place. */
const TOOLS = {
  cmake: { pkg: "cmake" },
  ninja: { pkg: "ninja-build" },
  git: { pkg: "git" },
  make: { pkg: "make" },
  "g++": { pkg: "g++", env: ["CXX"] },
  python3: { pkg: "python3", env: ["PYTHON", "npm_config_python"] },
};

/** Whether an executable file of that name is on PATH. */
function onPath(tool) {
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => {
    try {
      return dir !== "" && (statSync(path.join(dir, tool)).mode & 0o111) !== 0;
    } catch {
      return false;
    }
  });
}

/** Exits with status 1 and one line on stderr if any of the tools is missing. */
export function requireTools(...tools) {
  const missing = tools.filter((t) => !(TOOLS[t]?.env ?? []).some((v) => process.env[v]) && !onPath(t));
  if (missing.length === 0) return;
  const [names, them] = missing.length === 1 ? [missing[0], "it"] : [`${missing.slice(0, -1).join(", ")} and ${missing.at(-1)}`, "them"];
  const packages = missing.map((t) => TOOLS[t]?.pkg ?? t).join(" ");
  process.stderr.write(`verispec: ${names} ${missing.length === 1 ? "is" : "are"} missing: install ${them} (Debian: apt-get install ${packages})\n`);
  process.exit(1);
}
