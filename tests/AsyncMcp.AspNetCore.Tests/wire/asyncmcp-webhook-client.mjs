// Speaks to an AsyncMcp webhook server at the wire level as asyncmcp's Python webhook client does: plain HTTP
// POSTs with X-Client-ID / X-Session-ID / X-Request-ID / X-Method headers, params._meta.webhookUrl in initialize,
// and its own HTTP server receiving every reply as a POST. With SECRET set, each request is signed and each
// delivery verified by the Standard Webhooks reference implementation (the `standardwebhooks` npm package).
// Environment: INFRA_DIR, SERVER_URL, SECRET (optional). Prints one JSON document on stdout.
import http from "node:http";
import { randomUUID } from "node:crypto";
import { Webhook, readBody, signatureHeaders, verified as verifiedBy } from "./webhooks.mjs";

const serverUrl = process.env.SERVER_URL;
const secret = process.env.SECRET || null;
const webhook = secret ? new Webhook(secret) : null;
const clientId = "python-like-webhook-client";
const deliveries = [];
const waiters = [];
let sessionId;

// The client's webhook: verify, record, answer as asyncmcp's client does.
const receiver = http.createServer(async (req, res) => {
  const body = await readBody(req);
  const verified = verifiedBy(webhook, body, req.headers);
  const delivery = {
    body: JSON.parse(body),
    verified,
    contentType: req.headers["content-type"] ?? null,
    sessionHeader: req.headers["x-session-id"] ?? null,
    requestIdHeader: req.headers["x-request-id"] ?? null,
    methodHeader: req.headers["x-method"] ?? null,
  };
  deliveries.push(delivery);
  for (const w of [...waiters]) w();
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ status: "success" }));
  if (delivery.body.method === "sampling/createMessage" && delivery.body.id !== undefined) {
    // A server->client request: answered by POSTing the JSON-RPC response to the server URL, as asyncmcp does.
    const answer = {
      jsonrpc: "2.0", id: delivery.body.id,
      result: { role: "assistant", model: "python-model", content: { type: "text", text: "hi from python" } },
    };
    post(answer).then((r) => { result.steps.samplingAnswer = r; });
  }
});
await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const webhookUrl = `http://127.0.0.1:${receiver.address().port}/webhook`;

function waitFor(predicate, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = deliveries.find(predicate);
      if (found) {
        waiters.splice(waiters.indexOf(check), 1);
        clearTimeout(timer);
        resolve(found);
      }
    };
    const timer = setTimeout(() => reject(new Error("timed out waiting for a delivery")), timeoutMs);
    waiters.push(check);
    check();
  });
}

function headersFor(message, { sign = true, signedBody, msgId } = {}) {
  const headers = { "content-type": "application/json", "x-client-id": clientId };
  if (sessionId) headers["x-session-id"] = sessionId;
  if (message?.method) headers["x-method"] = message.method;
  if (message?.id !== undefined) headers["x-request-id"] = String(message.id);
  if (webhook && sign) {
    Object.assign(headers, signatureHeaders(webhook, msgId ?? `msg_${randomUUID()}`, new Date(), signedBody ?? JSON.stringify(message)));
  }
  return headers;
}

async function post(message, options = {}) {
  const body = options.rawBody ?? JSON.stringify(message);
  const headers = options.headers ?? headersFor(message, options);
  const response = await fetch(serverUrl, { method: "POST", headers, body });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null, sessionHeader: response.headers.get("x-session-id"), headers };
}

const result = { steps: {} };
const initialize = {
  jsonrpc: "2.0", id: 1, method: "initialize",
  params: {
    protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "python-like", version: "0.1" },
    _meta: { webhookUrl },
  },
};
initialize.params.capabilities = { sampling: {} };
const init = await post(initialize);
result.steps.initialize = init;
sessionId = init.json?.session_id;
result.initializeDelivery = await waitFor((d) => d.body.id === 1 && !d.body.method);
result.steps.initialized = await post({ jsonrpc: "2.0", method: "notifications/initialized" });

const list = { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} };
result.steps.list = await post(list);
result.listDelivery = await waitFor((d) => d.body.id === 2 && !d.body.method);
const call = { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "echo", arguments: { message: "from python" } } };
const callHeaders = headersFor(call);
result.steps.call = await post(call, { headers: callHeaders });
result.callDelivery = await waitFor((d) => d.body.id === 3 && !d.body.method);

// A tool that asks the client's model (sampling): the server POSTs a request to the webhook, with X-Request-ID and
// X-Method, and the tool's result follows once the client has answered it.
const sample = { jsonrpc: "2.0", id: 6, method: "tools/call", params: { name: "sample", arguments: { prompt: "ping" } } };
result.steps.sample = await post(sample);
result.samplingRequest = await waitFor((d) => d.body.method === "sampling/createMessage");
result.sampleDelivery = await waitFor((d) => d.body.id === 6 && !d.body.method);

if (webhook) {
  // Sign one body and send another: the reference signature no longer matches.
  const tampered = { jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "echo", arguments: { message: "tampered" } } };
  result.steps.tampered = await post(tampered, { headers: headersFor(tampered, { signedBody: JSON.stringify(call) }) });
  // The same signed request again (same webhook-id): a replay, not run again.
  result.steps.replay = await post(call, { headers: callHeaders });
  // No signature at all.
  result.steps.unsigned = await post({ jsonrpc: "2.0", id: 5, method: "tools/list", params: {} }, { sign: false });
}

// A last call whose answer is waited for: whatever the requests above caused has been delivered by then.
const marker = { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "echo", arguments: { message: "marker" } } };
result.steps.marker = await post(marker);
result.markerDelivery = await waitFor((d) => d.body.id === 7 && !d.body.method);

result.steps.delete = await (async () => {
  const response = await fetch(serverUrl, { method: "DELETE", headers: headersFor(null, { signedBody: "" }) });
  return { status: response.status, json: await response.json() };
})();
result.deliveries = deliveries;
console.log(JSON.stringify(result));
receiver.close();
process.exit(0);
