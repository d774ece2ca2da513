// A wire-level fake of asyncmcp's Python "StreamableHTTP + Webhook" server (asyncmcp main,
// StreamableHTTPWebhookSessionManager in stateful mode over a low-level MCP Server), doing what it does on the wire,
// bugs included where a client must cope with them:
// - One endpoint, /mcp: POST, GET, DELETE, with mcp-session-id and mcp-protocol-version headers.
// - Any POST without mcp-session-id creates a session first; a request other than initialize then fails the session
//   check with 400 and a JSON-RPC error whose id is "server-error", leaving that session behind (so a rejected
//   server/discover probe leaves a stray session). An unknown mcp-session-id gets 400 "Bad Request: No valid session ID
//   provided" (plain text).
// - mcp-protocol-version must be 2024-11-05, 2025-03-26 or 2025-06-18 (absent counts as 2025-03-26) except on
//   initialize; initialize answers with the requested revision when supported, else 2025-06-18.
// - The result of a tool named in WEBHOOK_TOOLS is POSTed, unsigned, to the _meta.webhookUrl of initialize with the
//   mcp-session-id header, and never answered on its POST: in SSE mode the stream stays open with the call's progress,
//   then keep-alive comments; in JSON mode (JSON_RESPONSE=1) the POST just waits.
// - A request whose method the server does not know gets no answer at all.
// Tools: echo(message), slow_report(steps, delayMs) (progress after each step; a webhook tool by default),
// hold(name) (answers once the test POSTs /_fake/release?name=<name>; on the stream).
// Environment: WEBHOOK_TOOLS (comma-separated, default slow_report), JSON_RESPONSE, PING_MS (keep-alive comment
// interval, default 15000 as sse-starlette's). Prints {"listening": url}, then {"request": {...}} for every POST, GET
// and DELETE once it is answered or, for one never answered, once it is taken ({"pending": ...}), and
// {"webhook": {...}} for every delivery.
import http from "node:http";
import { randomUUID } from "node:crypto";
import { readBody } from "./webhooks.mjs";

const SUPPORTED = ["2024-11-05", "2025-03-26", "2025-06-18"];
const DEFAULT_NEGOTIATED = "2025-03-26";
const LATEST = "2025-06-18";
const KNOWN_REQUESTS = new Set(["initialize", "ping", "tools/list", "tools/call"]);
const webhookTools = new Set((process.env.WEBHOOK_TOOLS ?? "slow_report").split(",").map((t) => t.trim()).filter(Boolean));
const jsonResponse = process.env.JSON_RESPONSE === "1";
const pingMs = Number(process.env.PING_MS ?? 15000);
const sessions = new Map(); // id -> { webhookUrl, initialized, streams: Map<requestId, writer>, get: writer | null, terminated }
const holds = new Map(); // name -> resolve

const TOOLS = [
  { name: "echo", description: "Echoes the message back.", inputSchema: { type: "object", properties: { message: { type: "string" } } } },
  { name: "slow_report", description: "Works in steps, reporting progress.", inputSchema: { type: "object", properties: { steps: { type: "number" }, delayMs: { type: "number" } } } },
  { name: "hold", description: "Answers once released.", inputSchema: { type: "object", properties: { name: { type: "string" } } } },
];

function log(kind, what) {
  console.log(JSON.stringify({ [kind]: what }));
}

function errorResponse(res, status, message, sessionId, code = -32600) {
  const headers = { "content-type": "application/json" };
  if (sessionId) headers["mcp-session-id"] = sessionId;
  res.writeHead(status, headers);
  res.end(JSON.stringify({ jsonrpc: "2.0", id: "server-error", error: { code, message } }));
}

function sseEvent(message) {
  return `event: message\r\ndata: ${JSON.stringify(message)}\r\n\r\n`;
}

// Opens an SSE response that sends keep-alive comments until it ends.
function openSse(res, sessionId) {
  res.writeHead(200, { "cache-control": "no-cache, no-transform", connection: "keep-alive", "content-type": "text/event-stream", "mcp-session-id": sessionId });
  res.flushHeaders();
  const ping = setInterval(() => res.write(`: ping - ${new Date().toISOString()}\r\n\r\n`), pingMs);
  res.on("close", () => clearInterval(ping));
  return {
    send: (message) => res.write(sseEvent(message)),
    end: () => {
      clearInterval(ping);
      res.end();
    },
  };
}

async function toWebhook(sessionId, message) {
  const session = sessions.get(sessionId);
  if (!session?.webhookUrl) return;
  const headers = { "Content-Type": "application/json", "User-Agent": "asyncmcp-streamable-http-webhook/1.0", "mcp-session-id": sessionId };
  if (message.method !== undefined) {
    headers["X-Method"] = message.method;
    if (message.id !== undefined) headers["X-Request-ID"] = String(message.id);
  }
  let status = null;
  try {
    status = (await fetch(session.webhookUrl, { method: "POST", headers, body: JSON.stringify(message) })).status;
  } catch (e) {
    status = String(e);
  }
  log("webhook", { sessionId, id: message.id ?? null, status });
}

// The low-level MCP server of a session: answers go to the request's own stream (SSE, or the JSON body), except a
// webhook tool's result, which goes to the webhook only.
async function mcpServer(sessionId, message, toStream) {
  const params = message.params ?? {};
  if (!KNOWN_REQUESTS.has(message.method)) {
    log("dropped", { sessionId, method: message.method, id: message.id });
    return;
  }

  const reply = (result) => toStream({ jsonrpc: "2.0", id: message.id, result });
  const text = (t) => ({ content: [{ type: "text", text: t }], isError: false });
  switch (message.method) {
    case "initialize":
      return reply({
        protocolVersion: SUPPORTED.includes(params.protocolVersion) ? params.protocolVersion : LATEST,
        capabilities: { experimental: {}, tools: { listChanged: false } },
        serverInfo: { name: "asyncmcp-fake-hybrid-server", version: "0.2.1" },
      });
    case "ping":
      return reply({});
    case "tools/list":
      return reply({ tools: TOOLS });
    case "tools/call": {
      const args = params.arguments ?? {};
      let result;
      if (params.name === "echo") {
        result = text(`Echo: ${args.message}`);
      } else if (params.name === "slow_report") {
        const steps = Number(args.steps ?? 2);
        const token = params._meta?.progressToken;
        for (let i = 1; i <= steps; i++) {
          await new Promise((r) => setTimeout(r, Number(args.delayMs ?? 20)));
          if (token !== undefined) toStream({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: token, progress: i, total: steps } });
        }
        result = text(`report ready after ${steps} steps`);
      } else if (params.name === "hold") {
        log("holding", { name: args.name });
        await new Promise((resolve) => holds.set(args.name, resolve));
        result = text(`released ${args.name}`);
      } else {
        result = { content: [{ type: "text", text: `Unknown tool: ${params.name}` }], isError: true };
      }

      const response = { jsonrpc: "2.0", id: message.id, result };
      if (webhookTools.has(params.name)) {
        return toWebhook(sessionId, response);
      }

      return toStream(response);
    }
  }
}

function checkSessionHeaders(req, res, sessionId) {
  const given = req.headers["mcp-session-id"];
  if (!given) {
    errorResponse(res, 400, "Bad Request: Missing session ID", sessionId);
    return false;
  }
  if (given !== sessionId) {
    errorResponse(res, 404, "Not Found: Invalid or expired session ID", sessionId);
    return false;
  }
  const version = req.headers["mcp-protocol-version"] ?? DEFAULT_NEGOTIATED;
  if (!SUPPORTED.includes(version)) {
    errorResponse(res, 400, `Bad Request: Unsupported protocol version: ${version}. Supported versions: ${SUPPORTED.join(", ")}`, sessionId);
    return false;
  }
  return true;
}

async function post(req, res, sessionId, record) {
  const session = sessions.get(sessionId);
  const accept = (req.headers.accept ?? "").split(",").map((s) => s.trim());
  if (!(accept.some((a) => a.startsWith("application/json")) && accept.some((a) => a.startsWith("text/event-stream")))) {
    return errorResponse(res, 406, "Not Acceptable: Client must accept both application/json and text/event-stream", sessionId);
  }
  if ((req.headers["content-type"] ?? "").split(";")[0].trim() !== "application/json") {
    return errorResponse(res, 415, "Unsupported Media Type: Content-Type must be application/json", sessionId);
  }
  let message;
  try {
    message = JSON.parse(await readBody(req));
  } catch (e) {
    return errorResponse(res, 400, `Parse error: ${e.message}`, sessionId, -32700);
  }
  record.rpcMethod = message.method ?? null;
  record.id = message.id ?? null;

  const isInitialize = message.method === "initialize" && message.id !== undefined;
  const isInitialized = message.method === "notifications/initialized" && message.id === undefined;
  if (isInitialize) {
    const webhookUrl = message.params?._meta?.webhookUrl;
    if (webhookUrl) session.webhookUrl = webhookUrl;
  } else if (!checkSessionHeaders(req, res, sessionId)) {
    return;
  } else if (!isInitialized && !session.initialized) {
    return errorResponse(res, 400, "Invalid request: Session not fully initialized", sessionId, -32602);
  }

  if (message.id === undefined || message.method === undefined) {
    res.writeHead(202, { "content-type": "application/json", "mcp-session-id": sessionId });
    res.end();
    if (isInitialized) session.initialized = true;
    return;
  }

  if (jsonResponse) {
    log("pending", record);
    await mcpServer(sessionId, message, (m) => {
      if (m.id !== undefined && m.method === undefined) {
        res.writeHead(200, { "content-type": "application/json", "mcp-session-id": sessionId });
        res.end(JSON.stringify(m));
      }
      // Progress cannot ride a JSON body: dropped, as the request stream reader does.
    });
    return;
  }

  const stream = openSse(res, sessionId);
  log("pending", record);
  await mcpServer(sessionId, message, (m) => {
    stream.send(m);
    if (m.id !== undefined && m.method === undefined) stream.end();
  });
}

function get(req, res, sessionId) {
  const session = sessions.get(sessionId);
  if (!(req.headers.accept ?? "").includes("text/event-stream")) {
    return errorResponse(res, 406, "Not Acceptable: Client must accept text/event-stream", sessionId);
  }
  if (!checkSessionHeaders(req, res, sessionId)) return;
  if (session.get) return errorResponse(res, 409, "Conflict: Only one SSE stream is allowed per session", sessionId);
  session.get = openSse(res, sessionId);
  res.on("close", () => {
    session.get = null;
  });
}

function del(req, res, sessionId) {
  if (!checkSessionHeaders(req, res, sessionId)) return;
  sessions.get(sessionId).terminated = true;
  sessions.get(sessionId).get?.end();
  res.writeHead(200, { "content-type": "application/json", "mcp-session-id": sessionId });
  res.end();
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://localhost");
  if (url.pathname === "/_fake/release") {
    holds.get(url.searchParams.get("name"))?.();
    res.writeHead(200);
    return res.end();
  }

  const record = { httpMethod: req.method, sessionHeader: req.headers["mcp-session-id"] ?? null, protocolVersion: req.headers["mcp-protocol-version"] ?? null };
  res.on("finish", () => log("request", { ...record, status: res.statusCode }));
  res.on("close", () => {
    if (!res.writableFinished) log("abandoned", record);
  });
  try {
    let sessionId = req.headers["mcp-session-id"];
    if (sessionId === undefined) {
      // A new session for any request without the header: it stays whatever happens to the request.
      sessionId = randomUUID();
      sessions.set(sessionId, { webhookUrl: null, initialized: false, get: null, terminated: false });
      log("sessionCreated", { sessionId, sessions: sessions.size });
    } else if (!sessions.has(sessionId)) {
      res.writeHead(400, { "content-type": "text/plain" });
      return res.end("Bad Request: No valid session ID provided");
    }

    const session = sessions.get(sessionId);
    if (session.terminated) return errorResponse(res, 404, "Not Found: Session has been terminated", sessionId);
    if (req.method === "POST") return await post(req, res, sessionId, record);
    if (req.method === "GET") return get(req, res, sessionId);
    if (req.method === "DELETE") return del(req, res, sessionId);
    return errorResponse(res, 405, "Method Not Allowed", sessionId);
  } catch (e) {
    if (!res.headersSent) errorResponse(res, 500, `Error handling POST request: ${e}`, null, -32603);
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
console.log(JSON.stringify({ listening: `http://127.0.0.1:${server.address().port}/mcp` }));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
