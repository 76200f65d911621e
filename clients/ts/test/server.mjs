// Starts `ormdb serve` for the tests: a temporary data directory, a free
// port (port 0; the URL is read from the first line the server prints),
// an optional config file. ORMDB_BINARY names the binary.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ORMDB = process.env.ORMDB_BINARY;
if (!ORMDB) throw new Error("set ORMDB_BINARY to the ormdb binary (build/ormdb)");
// tests/data of the checkout: the blog schema.
export const TEST_DATA = process.env.ORMDB_TEST_DATA ??
  fileURLToPath(new URL("../../../tests/data", import.meta.url));

export async function startServer(config = undefined, listen = "tcp://127.0.0.1:0", dir = undefined) {
  dir ??= mkdtempSync(join(tmpdir(), "ormdb-ts-test-"));
  // No metrics endpoint: its default port is for one server per machine.
  const args = ["serve", "--data", join(dir, "data"), "--listen", listen, "--http-listen", "off"];
  if (config) {
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    args.push("--config", join(dir, "config.json"));
  }
  const proc = spawn(ORMDB, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${out}`)), 10000);
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /^ormdb serving .* on (\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.stderr.on("data", (d) => (out += d));
    proc.on("exit", (code) => reject(new Error(`the server exited with ${code}: ${out}`)));
  });
  return {
    url,
    dir,
    // The CLI against this server: its stdout (the same request through the C++ client).
    cli(args, env = {}) {
      return execFileSync(ORMDB, ["--connect", url, ...args], {
        encoding: "utf8",
        env: { ...process.env, ...env },
        maxBuffer: 256 << 20,
      }).replace(/\n$/, "");
    },
    async stop() {
      const exited = new Promise((resolve) => proc.once("exit", resolve));
      proc.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
