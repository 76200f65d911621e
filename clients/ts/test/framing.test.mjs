// The SP framing when the stream arrives in small pieces: a proxy between
// the client and the server passes the server's bytes on a few at a time,
// so handshakes, lengths and messages are split at every position.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";

import * as ormdb from "../dist/index.js";
import { jsonDouble, formatTimestamp } from "../dist/json.js";
import { startServer, TEST_DATA } from "./server.mjs";

let server;
let proxy;
before(async () => {
  server = await startServer();
  const [host, port] = server.url.replace("tcp://", "").split(":");
  proxy = net.createServer((client) => {
    const upstream = net.connect({ host, port: Number(port) });
    client.pipe(upstream);
    let queue = Promise.resolve();
    upstream.on("data", (d) => {
      upstream.pause();
      queue = queue.then(async () => {
        for (let at = 0; at < d.length;) {
          const n = 1 + ((at * 7 + d.length) % 13);
          client.write(d.subarray(at, at + n));
          at += n;
          await new Promise((r) => setImmediate(r));
        }
        upstream.resume();
      });
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.on("error", () => {});
    upstream.on("error", () => {});
  });
  await new Promise((r) => proxy.listen(0, "127.0.0.1", r));
});
after(async () => {
  proxy?.close();
  await server?.stop();
});

test("replies split into pieces of 1 to 13 bytes read the same", async () => {
  const direct = await ormdb.connect(server.url);
  await direct.applySchema(readFileSync(join(TEST_DATA, "blog.ormdb"), "utf8"));
  const ops = [];
  for (let i = 0; i < 50; i++) ops.push({ op: "insert", entity: "Tag", values: { name: `t${i}` } });
  await direct.mutate(ops);
  const split = await ormdb.connect(`tcp://127.0.0.1:${proxy.address().port}`);
  const q = "Tag(order: name) { name }";
  const results = await Promise.all([split.fetch(q), split.fetch(q), split.currentVersion()]);
  const expected = (await direct.fetch(q)).toJSONText();
  assert.equal(results[0].toJSONText(), expected);
  assert.equal(results[1].toJSONText(), expected);
  assert.equal(results[2], await direct.currentVersion());
  split.close();
  direct.close();
});

test("doubles and timestamps as the C++ renderers write them", () => {
  // std::to_chars: the shorter of fixed and scientific, fixed on a tie, ".0" when integral.
  assert.equal(jsonDouble(1), "1.0");
  assert.equal(jsonDouble(-2.5), "-2.5");
  assert.equal(jsonDouble(0.1), "0.1");
  assert.equal(jsonDouble(1e21), "1e+21");
  assert.equal(jsonDouble(1e20), "1e+20");
  assert.equal(jsonDouble(123456), "123456.0");
  assert.equal(jsonDouble(0.0001), "1e-04");
  assert.equal(jsonDouble(0.001), "0.001");
  assert.equal(jsonDouble(1.5e-7), "1.5e-07");
  assert.equal(jsonDouble(1e100), "1e+100");
  assert.equal(jsonDouble(Infinity), "null");
  assert.equal(jsonDouble(-0), "-0.0");
  assert.equal(formatTimestamp(0), "1970-01-01T00:00:00Z");
  assert.equal(formatTimestamp(-1), "1969-12-31T23:59:59.999999Z");
  assert.equal(formatTimestamp(1706954400500000), "2024-02-03T10:00:00.500Z");
  assert.equal(formatTimestamp(951782400000001), "2000-02-29T00:00:00.000001Z");
  assert.equal(formatTimestamp(253402300800000000n), "10000-01-01T00:00:00Z");
});
