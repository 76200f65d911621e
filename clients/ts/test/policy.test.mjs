// Principals through the TypeScript client: a JWT per connection, and
// Database.as (impersonation) on a server without keys.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";

import * as ormdb from "../dist/index.js";
import { startServer } from "./server.mjs";

const SCHEMA = `
entity Project {
  id: id
  name: string
  tenant: string @index
  @@deny(all, tenant != auth.tenant)
  @@allow(all, true)
}
`;
const SECRET = "a-test-secret-of-at-least-32-bytes!!";

function jwt(secret, claims) {
  const b64 = (s) => Buffer.from(s).toString("base64url");
  const head = b64(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64(JSON.stringify(claims));
  const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

async function load(url) {
  const owner = await ormdb.connect(url);
  await owner.applySchema(SCHEMA);
  await owner.mutate([
    { op: "insert", entity: "Project", values: { name: "rocket", tenant: "acme" } },
    { op: "insert", entity: "Project", values: { name: "drill", tenant: "globex" } },
  ]);
  return owner;
}

test("a token reads as its principal; a bad one is refused", async () => {
  const server = await startServer({ jwt: { hs256_secret: SECRET } });
  try {
    const owner = await load(server.url);
    owner.close();
    const exp = Math.floor(Date.now() / 1000) + 600;
    const db = await ormdb.connect(server.url, { token: jwt(SECRET, { sub: "7", tenant: "globex", exp }) });
    const rows = (await db.fetch("Project { name }")).toJSON().data;
    assert.deepEqual(rows.map((r) => r.name), ["drill"]);
    db.close();
    await assert.rejects(
      ormdb.connect(server.url, { token: jwt(SECRET, { sub: "7", tenant: "acme", exp: exp - 1200 }) }),
      ormdb.UnauthenticatedError,
    );
    await assert.rejects(
      ormdb.connect(server.url, { token: jwt("x".repeat(40), { sub: "7", tenant: "acme", exp }) }),
      ormdb.UnauthenticatedError,
    );
  } finally {
    await server.stop();
  }
});

test("as: a view of the same connection acting for a principal", async () => {
  const server = await startServer();
  try {
    const owner = await load(server.url);
    const acme = owner.as({ id: 1, tenant: "acme" });
    assert.deepEqual((await acme.fetch("Project { name }")).toJSON().data.map((r) => r.name), ["rocket"]);
    await assert.rejects(
      acme.mutate([{ op: "insert", entity: "Project", values: { name: "x", tenant: "globex" } }]),
      ormdb.PermissionDeniedError,
    );
    assert.equal((await owner.as(null).fetch("Project { name }")).toJSON().data.length, 0);
    assert.equal((await owner.fetch("Project { name }")).toJSON().data.length, 2);
    owner.close();
  } finally {
    await server.stop();
  }
});
