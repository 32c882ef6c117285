// Starts Portkey's open-source gateway (@portkey-ai/gateway, pinned in package.json) for the tests,
// confined to loopback:
//
//   node tests/support/portkey_gateway/start.mjs --port=8787 --headless
//
// The gateway's CLI has --port and --headless but no host option: it calls @hono/node-server's serve()
// without a hostname, which listens on every interface. Before loading it, this script makes a listen()
// without a host bind GATEWAY_HOST (default 127.0.0.1) instead, and refuses any outgoing TCP connection to
// a host outside the loopback range (each refusal is logged to stderr as "loopback-guard: refused ...").
import net from "node:net";

const HOST = process.env.GATEWAY_HOST || "127.0.0.1";

function isLoopback(host) {
  if (host === undefined || host === null || host === "" || host === "localhost") return true;
  const bare = String(host).replace(/^\[|\]$/g, "");
  if (bare === "::1" || /^::ffff:127\./i.test(bare)) return true;
  return net.isIPv4(bare) && bare.startsWith("127.");
}

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  const isPort = typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first));
  if (isPort && typeof args[1] !== "string") {
    if (args.length > 1 && args[1] === undefined) args[1] = HOST;
    else args.splice(1, 0, HOST);
  } else if (first && typeof first === "object" && !Array.isArray(first) && first.path === undefined) {
    if (!first.host) args[0] = { ...first, host: HOST };
  }
  return listen.apply(this, args);
};

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  let options = args[0];
  if (Array.isArray(options)) options = options[0]; // node's normalized [options, callback]
  let host;
  let path;
  if (options && typeof options === "object") {
    host = options.host;
    path = options.path;
  } else if (typeof options === "number" || /^\d+$/.test(String(options))) {
    host = typeof args[1] === "string" ? args[1] : undefined;
  } else {
    path = options; // a pipe or Unix socket
  }
  if (path === undefined && !isLoopback(host)) {
    const error = new Error(`loopback-guard: refused a connection to ${host}`);
    error.code = "ECONNREFUSED";
    process.stderr.write(`${error.message}\n`);
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return connect.apply(this, args);
};

await import("@portkey-ai/gateway/build/start-server.js");
