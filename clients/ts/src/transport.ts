// nng's SP protocol for a REQ socket over a stream (docs/PROTOCOL.md,
// "Transports"): `tcp://` and `tls+tcp://` with node:net / node:tls, and
// `ipc://` over a Unix socket.
//
// On the stream, after an 8-byte handshake each way
// (0x00 'S' 'P' 0x00, the protocol number big-endian, two zero bytes;
// REQ is 0x30, REP 0x31), each message is its length (u64, big-endian; on
// ipc preceded by a type byte 0x01), then the SP header, then the body.
// A REQ header is the 32-bit request id with its top bit set; the REP peer
// sends it back in front of the reply. Requests are matched to replies by
// that id, so several may be outstanding on one connection: the server
// answers them on its contexts in parallel.
import * as net from "node:net";
import * as tls from "node:tls";
import * as fs from "node:fs";

import { UnavailableError, InvalidArgumentError } from "./errors.js";

const SP_REQ = 0x30;
const SP_REP = 0x31;
const READ_BUFFER_BYTES = 512 * 1024;

export interface DialOptions {
  tlsCaFile?: string;
  tlsServerName?: string;
  maxReplyBytes: number;
}

interface Pending {
  resolve: (body: Buffer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export class SpConnection {
  private socket: net.Socket | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = (Math.random() * 0x7fffffff) >>> 0;
  private readonly ipc: boolean;
  // Receive state: the handshake or a message's length as far as it
  // arrived, then the message's body as far as it arrived.
  private readonly head = Buffer.alloc(9);
  private headHave = 0;
  private body: Buffer | undefined;
  private bodyHave = 0;
  private handshaken = false;
  private readBuffer: Buffer | undefined;
  private sharedReads = false;  // `receive` gets views of readBuffer
  private closed = false;

  constructor(readonly url: string, private readonly o: DialOptions) {
    this.ipc = url.startsWith("ipc://");
  }

  // Dials (again, after a lost connection) and exchanges the handshake.
  private connect(): Promise<void> {
    if (this.ready) return this.ready;
    this.ready = new Promise<void>((resolve, reject) => {
      let socket: net.Socket;
      const onConnect = () => {
        const hs = Buffer.from([0, 0x53, 0x50, 0, 0, SP_REQ, 0, 0]);
        socket.write(hs);
      };
      // What arrives goes here: set below, once the handlers exist.
      let onBytes: (d: Buffer) => void = () => undefined;
      try {
        socket = this.dial(onConnect, (d) => onBytes(d));
      } catch (e) {
        this.ready = undefined;
        reject(e);
        return;
      }
      socket.setNoDelay?.(true);
      this.socket = socket;
      this.handshaken = false;
      this.headHave = 0;
      this.body = undefined;
      const fail = (e: Error) => {
        if (this.socket !== socket) return;
        this.socket = undefined;
        this.ready = undefined;
        socket.destroy();
        const err = new UnavailableError(`the connection to ${this.url} was lost: ${e.message}`);
        reject(err);
        for (const [id, p] of this.pending) {
          if (p.timer) clearTimeout(p.timer);
          this.pending.delete(id);
          p.reject(err);
        }
      };
      socket.on("error", fail);
      socket.on("close", () => fail(new Error("closed by the server")));
      onBytes = (d: Buffer) => {
        try {
          this.receive(d, resolve);
        } catch (e) {
          fail(e as Error);
        }
      };
      if (!this.sharedReads) socket.on("data", onBytes);
    });
    // A rejected dial is reported to the caller; avoid an unhandled rejection here.
    this.ready.catch(() => undefined);
    return this.ready;
  }

  // Plain sockets read into one buffer of READ_BUFFER_BYTES (`onread`), not
  // libuv's 64 KiB: a large reply then arrives in a few reads rather than
  // one wake-up of the server's writer per 64 KiB. TLS sockets emit 'data'.
  private dial(onConnect: () => void, onBytes: (d: Buffer) => void): net.Socket {
    const m = /^(tcp|tls\+tcp|ipc):\/\/(.*)$/.exec(this.url);
    if (!m) {
      throw new InvalidArgumentError(
        `server URL '${this.url}' needs a scheme: tcp://HOST:PORT, ipc:///path or tls+tcp://HOST:PORT`);
    }
    const [, scheme, rest] = m;
    const onread = {
      buffer: (this.readBuffer ??= Buffer.allocUnsafeSlow(READ_BUFFER_BYTES)),
      callback: (n: number, buf: Uint8Array) => {
        onBytes(Buffer.from(buf.buffer, buf.byteOffset, n));
        return true;
      },
    };
    this.sharedReads = scheme !== "tls+tcp";
    if (scheme === "ipc") return net.connect({ path: rest, onread }, onConnect);
    const hp = /^(?:\[(.+)\]|([^:]+)):(\d+)$/.exec(rest);
    if (!hp) throw new InvalidArgumentError(`server URL '${this.url}' needs HOST:PORT`);
    const host = hp[1] ?? hp[2];
    const port = Number(hp[3]);
    if (scheme === "tcp") return net.connect({ host, port, onread }, onConnect);
    const ca = this.o.tlsCaFile ? fs.readFileSync(this.o.tlsCaFile) : undefined;
    return tls.connect(
      { host, port, ca, servername: this.o.tlsServerName ?? (net.isIP(host) ? undefined : host) },
      onConnect);
  }

  // Takes what arrived: the handshake, then messages. A message that lies
  // whole in one arrived chunk is a view of it (no copy); a longer one is
  // copied, as it arrives, into a buffer of its size.
  private receive(d: Buffer, onHandshake: () => void): void {
    const lengthBytes = this.ipc ? 9 : 8;
    let at = 0;
    while (at < d.length) {
      if (this.body === undefined) {
        const want = this.handshaken ? lengthBytes : 8;
        const k = Math.min(want - this.headHave, d.length - at);
        d.copy(this.head, this.headHave, at, at + k);
        this.headHave += k;
        at += k;
        if (this.headHave < want) return;
        this.headHave = 0;
        if (!this.handshaken) {
          const h = this.head;
          if (h[0] !== 0 || h[1] !== 0x53 || h[2] !== 0x50 || h[3] !== 0 || h.readUInt16BE(4) !== SP_REP) {
            throw new Error(`the peer at ${this.url} is not an nng REP socket`);
          }
          this.handshaken = true;
          onHandshake();
          continue;
        }
        const length = Number(this.head.readBigUInt64BE(this.ipc ? 1 : 0));
        if (length > this.o.maxReplyBytes + 64) {
          throw new Error(`a reply of ${length} bytes, more than the client accepts`);
        }
        if (d.length - at >= length) {
          // A view of the read buffer is overwritten by the next read: copy it.
          const view = d.subarray(at, at + length);
          this.deliver(this.sharedReads ? Buffer.from(view) : view);
          at += length;
          continue;
        }
        this.body = Buffer.allocUnsafeSlow(length);
        this.bodyHave = 0;
      }
      const k = Math.min(this.body.length - this.bodyHave, d.length - at);
      d.copy(this.body, this.bodyHave, at, at + k);
      this.bodyHave += k;
      at += k;
      if (this.bodyHave === this.body.length) {
        const msg = this.body;
        this.body = undefined;
        this.deliver(msg);
      }
    }
  }

  // A whole message: its SP header (the request id), then the reply frame.
  private deliver(msg: Buffer): void {
    if (msg.length < 4) throw new Error("a reply without its request id");
    const id = msg.readUInt32BE(0);
    const p = this.pending.get(id);
    if (!p) return;  // a reply to a request given up on
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    p.resolve(msg.subarray(4));
  }

  // Sends one frame; resolves with the reply's body (the frame after the SP header).
  async roundTrip(frame: Buffer, timeoutMs: number): Promise<Buffer> {
    if (this.closed) throw new UnavailableError("the connection is closed");
    await this.connect();
    const socket = this.socket;
    if (!socket) throw new UnavailableError(`the connection to ${this.url} was lost`);
    const id = ((this.nextId = (this.nextId + 1) & 0x7fffffff) | 0x80000000) >>> 0;
    return new Promise<Buffer>((resolve, reject) => {
      const timer = timeoutMs > 0 ? setTimeout(() => {
        this.pending.delete(id);
        reject(new UnavailableError(`no reply from ${this.url} within ${timeoutMs} ms`));
      }, timeoutMs) : undefined;
      this.pending.set(id, { resolve, reject, timer });
      const head = Buffer.allocUnsafe(this.ipc ? 13 : 12);
      let at = 0;
      if (this.ipc) head[at++] = 1;
      head.writeBigUInt64BE(BigInt(frame.length + 4), at);
      head.writeUInt32BE(id, at + 8);
      socket.cork();
      socket.write(head);
      socket.write(frame);
      socket.uncork();
    });
  }


  close(): void {
    this.closed = true;
    const s = this.socket;
    this.socket = undefined;
    this.ready = undefined;
    s?.destroy();
    for (const [id, p] of this.pending) {
      if (p.timer) clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new UnavailableError("the connection was closed"));
    }
  }
}

