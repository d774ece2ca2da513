// Speaks to an AsyncMcp hybrid server at the wire level as asyncmcp's Python hybrid client
// (asyncmcp.streamable_http_webhook.client) does: Streamable HTTP with plain fetch (X-Client-ID header,
// params._meta.webhookUrl in initialize only, Mcp-Session-Id afterwards, no acknowledgement opt-in), and its own HTTP
// server receiving webhook deliveries (with the mcp-session-id header). As in the Python client, every JSON-RPC message
// read from a POST's SSE stream, or from a JSON body, and every webhook delivery goes into one read stream, and the
// session resolves a request with the first response carrying its id: a response on the POST would be taken as the
// tool's result, and the real one by webhook would become a stray duplicate. A 202 answer forwards nothing.
// With SECRET set, each delivery is verified by the Standard Webhooks reference implementation (npm standardwebhooks).
// Environment: INFRA_DIR, SERVER_URL, SECRET (optional). Prints a line {"held":...} once the POST of the held tool
// has returned, then waits for its result (the test releases the tool), then prints one JSON document {"steps":...}.
import http from "node:http";
import { Webhook, readBody, verified as verifiedBy } from "./webhooks.mjs";

const serverUrl = process.env.SERVER_URL;
const secret = process.env.SECRET || null;
const webhook = secret ? new Webhook(secret) : null;
const clientId = "python-like-hybrid-client";
const deliveries = [];
const readStream = []; // what the Python client's ClientSession reads, in order: { source, message }
const waiters = [];
let sessionId;

function received(source, message) {
  readStream.push({ source, message, at: Date.now() });
  for (const w of waiters.splice(0)) w();
}

const receiver = http.createServer(async (req, res) => {
  const body = await readBody(req);
  const verified = verifiedBy(webhook, body, req.headers);
  const message = JSON.parse(body);
  deliveries.push({ body: message, sessionHeader: req.headers["mcp-session-id"] ?? null, verified, at: Date.now() });
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ status: "success" }));
  received("webhook", message);
});
await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const webhookUrl = `http://127.0.0.1:${receiver.address().port}/webhook`;

function parseSse(text) {
  return text.split(/\r?\n\r?\n/).map((block) => block.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n")).filter((d) => d.length > 0).map((d) => JSON.parse(d));
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
  const contentType = response.headers.get("content-type");
  let messages = [];
  if (response.status === 202) {
    // The Python client returns on 202 without reading anything.
  } else if (contentType?.startsWith("text/event-stream")) {
    // Forwarded until the first response or error, as _handle_sse_response does.
    for (const m of parseSse(text)) {
      messages.push(m);
      if ("result" in m || "error" in m) break;
    }
  } else if (contentType?.startsWith("application/json") && text.length > 0) {
    messages = [JSON.parse(text)];
  }
  for (const m of messages) received("post", m);
  return { status: response.status, contentType, messages, ms: Date.now() - started };
}

// The Python ClientSession: a request is answered by the first response with its id.
const responsesFor = (id) => readStream.filter((r) => r.message.id === id && ("result" in r.message || "error" in r.message));

async function resultOf(id, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = responsesFor(id)[0];
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
  steps.echoResult = (await resultOf(3))?.message ?? null;
  steps.slow = await post({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "slow", arguments: { steps: 3, delayMs: 200 }, _meta: { progressToken: "p4" } } });
  const slow = await resultOf(4);
  steps.slowResult = slow ? { source: slow.source, message: slow.message } : null;

  // A tool that runs until the test releases it: its POST must return while it is still running.
  steps.held = await post({ jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "hold", arguments: {} } });
  console.log(JSON.stringify({ held: steps.held }));
  const held = await resultOf(5);
  steps.heldResult = held ? { source: held.source, message: held.message } : null;

  // By now the result of request 4 has long arrived by webhook: a response on its POST would make two.
  steps.responses = { 4: responsesFor(4).length, 5: responsesFor(5).length };
  const del = await fetch(serverUrl, { method: "DELETE", headers: { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" } });
  steps.delete = { status: del.status };
} catch (error) {
  steps.error = String(error?.stack ?? error);
}

console.log(JSON.stringify({ steps, deliveries }));
receiver.close();
process.exit(0);
