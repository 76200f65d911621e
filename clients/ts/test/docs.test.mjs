// docs/reference/typescript.md's walk through runs as written: its ```js
// blocks, in order, as one module against a fresh server, each printing the
// ```text block that follows it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { startServer, TEST_DATA } from "./server.mjs";

const DOC = process.env.ORMDB_TS_DOC ?? new URL("../../../docs/reference/typescript.md", import.meta.url);
const MARK = "--- block done ---";

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

test("the walk through of docs/reference/typescript.md prints what it shows", async () => {
  const doc = readFileSync(DOC, "utf8");
  const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```\n\n```text\n([\s\S]*?)```/g)];
  assert.ok(blocks.length >= 6, `${blocks.length} runnable blocks`);
  const index = pathToFileURL(new URL("../dist/index.js", import.meta.url).pathname).href;
  const module = blocks.map(([, code]) => code.replaceAll('from "ormdb"', `from "${index}"`) +
    `console.log(${JSON.stringify(MARK)});\n`).join("");
  const dir = mkdtempSync(join(tmpdir(), "ormdb-ts-doc-"));
  try {
    writeFileSync(join(dir, "walk.mjs"), module);
    const stdout = await new Promise((resolve, reject) => {
      execFile("node", [join(dir, "walk.mjs")],
        { cwd: TEST_DATA, timeout: 60000, env: { ...process.env, ORMDB_URL: server.url } },
        (err, out, errText) => (err ? reject(new Error(`${err.message}\n${out}\n${errText}`)) : resolve(out)));
    });
    const printed = stdout.split(MARK + "\n");
    blocks.forEach(([, code, expected], i) => {
      assert.equal(printed[i], expected, `the block starting ${JSON.stringify(code.slice(0, 60))}`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
