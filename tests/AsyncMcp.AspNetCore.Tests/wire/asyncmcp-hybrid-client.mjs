// Speaks to an AsyncMcp hybrid server at the wire level as asyncmcp's Python hybrid client does: Streamable HTTP
// with plain fetch (X-Client-ID header, params._meta.webhookUrl in initialize, Mcp-Session-Id afterwards), and its
// own HTTP server receiving the results of webhook tools as POSTs carrying the mcp-session-id header. With SECRET set,
// each delivery is verified by the Standard Webhooks reference implementation (the `standardwebhooks` npm package).
// Environment: INFRA_DIR, SERVER_URL, SECRET (optional). Prints one JSON document on stdout.
import { createRequire } from "node:module";
import http from "node:http";
import path from "node:path";

const require = createRequire(path.join(process.env.INFRA_DIR, "package.json"));
const { Webhook } = require("standardwebhooks");

const serverUrl = process.env.SERVER_URL;
const secret = process.env.SECRET || null;
const webhook = secret ? new Webhook(secret) : null;
const clientId = "python-like-hybrid-client";
const deliveries = [];
const waiters = [];
let sessionId;

const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    let verified = null;
    if (webhook) {
      try {
        webhook.verify(body, {
          "webhook-id": req.headers["webhook-id"],
          "webhook-timestamp": req.headers["webhook-timestamp"],
          "webhook-signature": req.headers["webhook-signature"],
        });
        verified = true;
      } catch {
        verified = false;
      }
    }
    const delivery = { body: JSON.parse(body), sessionHeader: req.headers["mcp-session-id"] ?? null, verified, at: Date.now() };
    deliveries.push(delivery);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: "success" }));
    for (const w of waiters.splice(0)) w();
  });
});
await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const webhookUrl = `http://127.0.0.1:${receiver.address().port}/webhook`;

function parseBody(contentType, text) {
  if (contentType?.startsWith("text/event-stream")) {
    return text.split(/\r?\n\r?\n/).map((block) => block.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n")).filter((d) => d.length > 0).map((d) => JSON.parse(d));
  }
  return text.length > 0 ? [JSON.parse(text)] : [];
}

async function post(message) {
  const headers = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "x-client-id": clientId,
    "mcp-protocol-version": "2025-11-25",
  };
  if (sessionId) headers["mcp-session-id"] = sessionId;
  const started = Date.now();
  const response = await fetch(serverUrl, { method: "POST", headers, body: JSON.stringify(message) });
  const text = await response.text();
  sessionId ??= response.headers.get("mcp-session-id") ?? undefined;
  return { status: response.status, contentType: response.headers.get("content-type"), messages: parseBody(response.headers.get("content-type"), text), ms: Date.now() - started };
}

async function waitForDelivery(match, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = deliveries.find(match);
    if (found) return found;
    if (Date.now() > deadline) return null;
    await new Promise((resolve) => { waiters.push(resolve); setTimeout(resolve, 200); });
  }
}

const steps = {};
try {
  steps.initialize = await post({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "asyncmcp-python-like", version: "0.1" }, _meta: { webhookUrl } } });
  steps.sessionId = sessionId ?? null;
  steps.initialized = await post({ jsonrpc: "2.0", method: "notifications/initialized" });
  steps.list = await post({ jsonrpc: "2.0", id: 2, method: "tools/list", params: {} });
  steps.echo = await post({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "echo", arguments: { message: "from python" } } });
  steps.slow = await post({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "slow", arguments: { steps: 3, delayMs: 200 }, _meta: { progressToken: "p4" } } });
  const result = await waitForDelivery((d) => d.body.id === 4);
  steps.slowDelivery = result;
  const del = await fetch(serverUrl, { method: "DELETE", headers: { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" } });
  steps.delete = { status: del.status };
} catch (error) {
  steps.error = String(error?.stack ?? error);
}

console.log(JSON.stringify({ steps, deliveries }));
receiver.close();
process.exit(0);
