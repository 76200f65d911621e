// The client against servers with keys, small frame limits (so a large
// request goes as an upload and a large reply comes in chunks) and TLS.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import * as ormdb from "../dist/index.js";
import { startServer, TEST_DATA } from "./server.mjs";

const BLOG = readFileSync(join(TEST_DATA, "blog.ormdb"), "utf8");
const ADMIN = "admin-key-0123456789";
const READER = "reader-key-0123456789";

let server;
before(async () => {
  server = await startServer({
    keys: [
      { key: ADMIN, principal: "ops", roles: ["admin", "write", "read"] },
      { key: READER, principal: "app", roles: ["read"] },
    ],
    max_frame_bytes: 65536,
    max_request_frame_bytes: 65536,
  });
});
after(async () => {
  await server?.stop();
});

test("keys: none or a wrong one is UNAUTHENTICATED, a read key cannot write", async () => {
  await assert.rejects(ormdb.connect(server.url), ormdb.UnauthenticatedError);
  await assert.rejects(ormdb.connect(server.url, { key: "wrong-key-0123456789" }), (e) => e.code === "UNAUTHENTICATED");
  const admin = await ormdb.connect(server.url, { key: ADMIN });
  await admin.applySchema(BLOG);
  const reader = await ormdb.connect(server.url, { key: READER });
  assert.equal((await reader.fetch("User { name }")).length, 0);
  await assert.rejects(reader.mutate([{ op: "insert", entity: "Tag", values: { name: "x" } }]),
    (e) => e instanceof ormdb.PermissionDeniedError && e.code === "PERMISSION_DENIED");
  admin.close();
  reader.close();
});

test("a request over the frame limit goes as an upload, a reply over it comes in chunks", async () => {
  const db = await ormdb.connect(server.url, { key: ADMIN });
  await db.applySchema(BLOG);
  const ops = [];
  for (let i = 0; i < 1500; i++) {
    ops.push({ op: "insert", entity: "Tag", values: { name: `chunk-${String(i).padStart(5, "0")}-${"y".repeat(600)}` } });
  }
  const batch = JSON.stringify({ ops });
  assert.ok(batch.length > 10 * 65536);
  const reply = await db.mutate(batch);
  assert.equal(reply.results.length, 1500);
  const q = "Tag(where: name like \"chunk-%\", order: name) { name }";
  const r = await db.fetch(q);
  assert.equal(r.length, 1500);
  assert.equal(r.toJSONText(), server.cli(["query", q, "--format", "json"], { ORMDB_KEY: ADMIN }));
  const stats = await db.stats();
  assert.ok(stats.server.chunked_replies >= 1, JSON.stringify(stats.server));
  assert.equal(stats.server.open_continuations, 0);
  assert.equal(stats.server.open_uploads, 0);
  db.close();
});

test("tls+tcp:// verified against the server's certificate", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ormdb-ts-tls-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
  const tls = await startServer({ tls: { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") } },
    "tls+tcp://127.0.0.1:0", dir);
  try {
    const db = await ormdb.connect(tls.url, { tlsCaFile: join(dir, "cert.pem") });
    await db.applySchema(BLOG);
    await db.mutate([{ op: "insert", entity: "Tag", values: { name: "secure" } }]);
    assert.deepEqual([...(await db.fetch("Tag { name }"))].map((t) => t.name), ["secure"]);
    db.close();
    // Without the CA the server's certificate is not trusted.
    await assert.rejects(ormdb.connect(tls.url, { timeout: 5000 }), ormdb.UnavailableError);
  } finally {
    await tls.stop();
  }
});

test("ipc:// over a Unix socket", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ormdb-ts-ipc-"));
  const ipc = await startServer(undefined, `ipc://${join(dir, "ormdb.sock")}`, dir);
  try {
    const db = await ormdb.connect(ipc.url);
    await db.applySchema(BLOG);
    await db.mutate([{ op: "insert", entity: "Tag", values: { name: "local" } }]);
    const r = await db.fetch("Tag { name }");
    assert.equal(r.toJSONText(), ipc.cli(["query", "Tag { name }", "--format", "json"]));
    db.close();
  } finally {
    await ipc.stop();
  }
});
