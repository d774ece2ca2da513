// A wire-level fake of asyncmcp's Python webhook server (asyncmcp main, WebhookSessionManager over a low-level MCP
// Server), doing what it does on the wire, bugs included where a client must cope with them:
// - POST {path} with the JSON-RPC body; DELETE with X-Session-ID ends a session.
// - X-Client-ID is required (400); X-Protocol-Version, when present, must be one of 2024-11-05, 2025-03-26,
//   2025-06-18 (absent counts as 2025-03-26), else 400 with a JSON-RPC error whose id is "server-error".
// - HTTP answers are small JSON status bodies; every JSON-RPC message the server sends is POSTed, unsigned, to the
//   client's _meta.webhookUrl with X-Session-ID (and X-Request-ID / X-Method on server requests and notifications).
// - A request whose method the server does not know gets no answer at all (server/discover among them): the MCP
//   library cannot read it, logs a warning and drops it.
// - initialize answers with the requested revision when supported, else 2025-06-18.
// Tools: echo(message), add(a, b), countdown(steps) (progress after each step, when the call asks for it).
// Environment: none needed. Prints {"listening": url} once listening, then {"request": {...}} for every HTTP request
// it answers and {"dropped": {...}} for every request it ignored.
import http from "node:http";
import { randomUUID } from "node:crypto";
import { readBody } from "./webhooks.mjs";

const SUPPORTED = ["2024-11-05", "2025-03-26", "2025-06-18"];
const DEFAULT_NEGOTIATED = "2025-03-26";
const LATEST = "2025-06-18";
const KNOWN_REQUESTS = new Set(["initialize", "ping", "tools/list", "tools/call"]);
const sessions = new Map(); // session id -> { clientId, webhookUrl, state }
const clientSessions = new Map(); // client id -> session id

const TOOLS = [
  { name: "echo", description: "Echoes the message back.", inputSchema: { type: "object", properties: { message: { type: "string" } }, required: ["message"] } },
  { name: "add", description: "Adds two numbers.", inputSchema: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] } },
  { name: "countdown", description: "Counts down, reporting progress.", inputSchema: { type: "object", properties: { steps: { type: "number" } } } },
];

function log(kind, what) {
  console.log(JSON.stringify({ [kind]: what }));
}

function serverError(message, code = -32600) {
  return { jsonrpc: "2.0", id: "server-error", error: { code, message } };
}

function answer(res, status, body, headers = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

async function toWebhook(sessionId, message) {
  const session = sessions.get(sessionId);
  if (!session) return;
  const headers = { "Content-Type": "application/json", "User-Agent": "asyncmcp-webhook/1.0", "X-Session-ID": sessionId };
  if (message.method !== undefined) {
    headers["X-Method"] = message.method;
    if (message.id !== undefined) headers["X-Request-ID"] = String(message.id);
  }
  try {
    await fetch(session.webhookUrl, { method: "POST", headers, body: JSON.stringify(message) });
  } catch (e) {
    log("deliveryFailed", { sessionId, error: String(e) });
  }
}

// The low-level MCP server of one session: what it does with each message the endpoint hands it.
async function mcpServer(sessionId, message) {
  if (message.method === undefined) return; // responses to server requests: none are sent by this fake
  if (message.id === undefined) return; // notifications: initialized, cancelled, and unknown ones (logged, ignored)
  if (!KNOWN_REQUESTS.has(message.method)) {
    log("dropped", { sessionId, method: message.method, id: message.id });
    return;
  }

  const reply = (result) => toWebhook(sessionId, { jsonrpc: "2.0", id: message.id, result });
  const params = message.params ?? {};
  switch (message.method) {
    case "initialize": {
      const requested = params.protocolVersion;
      await reply({
        protocolVersion: SUPPORTED.includes(requested) ? requested : LATEST,
        capabilities: { experimental: {}, tools: { listChanged: false } },
        serverInfo: { name: "asyncmcp-fake-webhook-server", version: "0.2.1" },
      });
      return;
    }
    case "ping":
      await reply({});
      return;
    case "tools/list":
      await reply({ tools: TOOLS });
      return;
    case "tools/call": {
      const args = params.arguments ?? {};
      const text = (t) => ({ content: [{ type: "text", text: t }], isError: false });
      if (params.name === "echo") return reply(text(`Echo: ${args.message}`));
      if (params.name === "add") return reply(text(String(Number(args.a) + Number(args.b))));
      if (params.name === "countdown") {
        const steps = Number(args.steps ?? 3);
        const token = params._meta?.progressToken;
        for (let i = 1; i <= steps; i++) {
          if (token !== undefined) {
            await toWebhook(sessionId, { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: token, progress: i, total: steps } });
          }
        }
        return reply(text(`Counted down from ${steps}`));
      }
      return reply({ content: [{ type: "text", text: `Unknown tool: ${params.name}` }], isError: true });
    }
  }
}

async function handle(req, res, record) {
  if (req.method === "DELETE") {
    const sessionId = req.headers["x-session-id"];
    if (!sessionId) return answer(res, 400, serverError("Missing X-Session-ID header"));
    const session = sessions.get(sessionId);
    if (!session) return answer(res, 404, serverError("Session not found"));
    sessions.delete(sessionId);
    clientSessions.delete(session.clientId);
    return answer(res, 200, { status: "terminated" });
  }
  if (req.method !== "POST") return answer(res, 405, serverError("Method Not Allowed"), { Allow: "POST, DELETE" });

  const text = await readBody(req);
  let message;
  try {
    message = JSON.parse(text);
  } catch (e) {
    return answer(res, 400, serverError(`Parse error: ${e.message}`, -32700));
  }
  if (message === null || typeof message !== "object" || Array.isArray(message) || message.jsonrpc !== "2.0") {
    return answer(res, 400, serverError("Validation error: not a JSON-RPC message", -32602));
  }
  record.rpcMethod = message.method ?? null;
  record.id = message.id ?? null;

  const clientId = req.headers["x-client-id"];
  const sessionId = req.headers["x-session-id"];
  const version = req.headers["x-protocol-version"];
  if (!clientId) return answer(res, 400, serverError("Missing X-Client-ID header"));
  if (!SUPPORTED.includes(version ?? DEFAULT_NEGOTIATED)) {
    const supported = SUPPORTED.join(", ");
    return answer(res, 400, serverError(version ? `Unsupported protocol version: ${version}. Supported versions: ${supported}` : `Missing protocol version. Supported versions: ${supported}`));
  }

  if (message.method === "initialize" && message.id !== undefined) {
    const webhookUrl = message.params?._meta?.webhookUrl;
    if (!webhookUrl) return answer(res, 400, { error: "Missing webhookUrl in _meta field" });
    const newSessionId = sessionId || randomUUID(); // a client-chosen id is taken as it is
    sessions.set(newSessionId, { clientId, webhookUrl, state: "init_pending" });
    clientSessions.set(clientId, newSessionId);
    answer(res, 200, { status: "session_created", session_id: newSessionId }, { "X-Session-ID": newSessionId });
    await mcpServer(newSessionId, message);
    return;
  }

  if (message.method === "notifications/initialized" && message.id === undefined) {
    if (!sessionId) return answer(res, 400, serverError("Missing X-Session-ID header for initialized notification"));
    const session = sessions.get(sessionId);
    if (!session) return answer(res, 404, { error: "Session not found" });
    if (session.state !== "init_pending") return answer(res, 400, { error: "Session not in init_pending state" });
    session.state = "initialized";
    return answer(res, 200, { status: "initialized" });
  }

  const target = sessionId && sessions.has(sessionId) ? sessionId : clientSessions.get(clientId);
  if (!target) return answer(res, 400, { error: "No active session found" });
  answer(res, 200, { status: "received" });
  await mcpServer(target, message);
}

const server = http.createServer(async (req, res) => {
  const record = {
    httpMethod: req.method,
    protocolVersion: req.headers["x-protocol-version"] ?? null,
    sessionId: req.headers["x-session-id"] ?? null,
    clientId: req.headers["x-client-id"] ?? null,
  };
  res.on("finish", () => log("request", { ...record, status: res.statusCode }));
  try {
    await handle(req, res, record);
  } catch (e) {
    if (!res.headersSent) answer(res, 500, serverError(`Internal server error: ${e}`, -32603));
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
console.log(JSON.stringify({ listening: `http://127.0.0.1:${server.address().port}/mcp/request` }));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
