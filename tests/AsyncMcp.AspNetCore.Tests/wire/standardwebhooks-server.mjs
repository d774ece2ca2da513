// A minimal webhook server that checks the client side of AsyncMcp against the Standard Webhooks reference
// implementation (the `standardwebhooks` npm package): every request the client transport POSTs is verified with it,
// and once the client's initialize names its webhook, deliveries signed with it are sent there: a valid answer, a
// tampered one, one with a stale timestamp, one signed with another secret, and a valid marker last.
// Environment: INFRA_DIR, SECRET, OTHER_SECRET. Prints {"listening": url} once listening, then one JSON result line.
import http from "node:http";
import { randomUUID } from "node:crypto";
import { Webhook, readBody, signatureHeaders, verified as verifiedBy } from "./webhooks.mjs";

const webhook = new Webhook(process.env.SECRET);
const stranger = new Webhook(process.env.OTHER_SECRET);
const requests = [];
const sessionId = "reference-session";

async function deliver(url, signer, message, { signedBody, timestamp } = {}) {
  const body = JSON.stringify(message);
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-session-id": sessionId,
      ...signatureHeaders(signer, `msg_${randomUUID()}`, timestamp ?? new Date(), signedBody ?? body),
    },
    body,
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

async function deliverAll(webhookUrl, initializeId) {
  const answer = {
    jsonrpc: "2.0",
    id: initializeId,
    result: { protocolVersion: "2025-11-25", capabilities: {}, serverInfo: { name: "reference", version: "1" } },
  };
  const notice = (data) => ({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data } });
  const deliveries = {};
  deliveries.valid = await deliver(webhookUrl, webhook, answer);
  deliveries.tampered = await deliver(webhookUrl, webhook, notice("tampered"), { signedBody: JSON.stringify(notice("original")) });
  deliveries.stale = await deliver(webhookUrl, webhook, notice("stale"), { timestamp: new Date(Date.now() - 10 * 60 * 1000) });
  deliveries.otherSecret = await deliver(webhookUrl, stranger, notice("other secret"));
  deliveries.marker = await deliver(webhookUrl, webhook, notice("marker"));
  return deliveries;
}

const server = http.createServer(async (req, res) => {
  const body = await readBody(req);
  const verified = verifiedBy(webhook, body, req.headers);
  const message = body ? JSON.parse(body) : null;
  requests.push({ method: req.method, verified, rpcMethod: message?.method ?? null, clientId: req.headers["x-client-id"] ?? null });
  const initialize = message?.method === "initialize";
  res.writeHead(200, { "content-type": "application/json", ...(initialize ? { "x-session-id": sessionId } : {}) });
  res.end(JSON.stringify(initialize ? { status: "session_created", session_id: sessionId } : { status: "received" }));
  if (initialize) {
    // Only a request that verified earns deliveries; either way the result is printed at once.
    const deliveries = verified ? await deliverAll(message.params._meta.webhookUrl, message.id) : null;
    console.log(JSON.stringify({ requests, deliveries }));
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
console.log(JSON.stringify({ listening: `http://127.0.0.1:${server.address().port}/mcp/request` }));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
