// Two standard clients against one Streamable HTTP MCP endpoint (SERVER_URL), printing one JSON line on stdout:
// - "extTasks": the MCP Tasks extension's own TypeScript client (npm @modelcontextprotocol/ext-tasks, withTasks) over
//   a stateless 2026-07-28 port written as the package documents it (one POST per request, the _meta framing the host
//   owns, its Mcp-Name header on tasks/*). It calls a task tool to completion (tasks/get polls), a sync tool, a tool
//   error, a protocol error, cancels a long task, and answers a task's input requests through tasks/update.
// - "plain": clients that do not know the extension: the MCP TypeScript SDK (npm @modelcontextprotocol/sdk, a
//   2025-11-25 session) and a bare 2026-07-28 POST that does not declare it; both must get ordinary results.
// Environment: INFRA_DIR, SERVER_URL.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createRequire } from "node:module";

const infra = process.env.INFRA_DIR;
const url = process.env.SERVER_URL;
const { withTasks, createApplicationInputHandler, resultFromTaskOutcome } = await import(
  pathToFileURL(path.join(infra, "node_modules", "@modelcontextprotocol", "ext-tasks", "dist", "client", "index.js")).href);
const require = createRequire(path.join(infra, "package.json"));
const load = (specifier) => import(pathToFileURL(require.resolve(specifier)).href);

const PROTOCOL = "2026-07-28";
const EXT = "io.modelcontextprotocol/tasks";
const clientInfo = { name: "ext-tasks-interop", version: "1.0.0" };
const clientCapabilities = { elicitation: { form: {} } };
const wire = [];   // every request the ext-tasks client made: method, Mcp-Name, and whether it failed
let nextId = 1;

function frame(params = {}) {
  const meta = params._meta ?? {};
  const caps = meta["io.modelcontextprotocol/clientCapabilities"] ?? {};
  return { ...params, _meta: { ...meta,
    "io.modelcontextprotocol/protocolVersion": PROTOCOL,
    "io.modelcontextprotocol/clientInfo": clientInfo,
    "io.modelcontextprotocol/clientCapabilities": { ...clientCapabilities, ...caps,
      extensions: { ...(clientCapabilities.extensions ?? {}), ...(caps.extensions ?? {}) } } } };
}

async function post(method, params, headers = {}, signal = undefined) {
  const id = nextId++;
  const res = await fetch(url, { method: "POST", signal,
    headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": PROTOCOL, "Mcp-Method": method,
      ...(method === "tools/call" ? { "Mcp-Name": params.name } : {}), ...headers },
    body: JSON.stringify({ jsonrpc: "2.0", id, method, params }) });
  const body = await res.text();
  const messages = (res.headers.get("content-type") ?? "").includes("text/event-stream")
    ? body.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => JSON.parse(l.slice(5)))
    : [JSON.parse(body)];
  const reply = messages.find((m) => m.id === id);
  if (!reply) throw new Error(`no reply to ${method} (HTTP ${res.status}): ${body}`);
  return reply;
}

async function dispatch(request, options = {}) {
  const headers = options.context?.headers ?? {};
  const reply = await post(request.method, frame(request.params), headers, options.signal);
  wire.push({ method: request.method, mcpName: headers["Mcp-Name"] ?? null, taskId: request.params?.taskId ?? null,
    error: reply.error?.code ?? null, inputResponses: request.params?.inputResponses ? Object.keys(request.params.inputResponses) : null });
  return reply.error ? { kind: "error", error: reply.error } : { kind: "result", result: reply.result };
}

const port = {
  endpointId: "asyncmcp-interop",
  taskCapabilities: { generation: "v2", capabilities: {} },
  dispatch,
  onServerRequest: () => () => {},
  onNotification: () => () => {},
  onInvalidated: () => () => {},
  invalidated: false,
};

// Fills in every field a form asks for: strings "Alice", booleans true, numbers 1.
const elicited = [];
const session = withTasks(port, {
  onInputRequest: createApplicationInputHandler({
    elicitation: async (request) => {
      elicited.push(request.params.message);
      const content = {};
      for (const [key, schema] of Object.entries(request.params.requestedSchema?.properties ?? {})) {
        content[key] = schema.type === "boolean" ? true : schema.type === "number" || schema.type === "integer" ? 1 : "Alice";
      }
      return { action: "accept", content };
    },
    sampling: async () => { throw new Error("sampling is not offered"); },
    roots: async () => ({ roots: [] }),
  }),
});

const text = (result) => result?.content?.find((c) => c.type === "text")?.text ?? null;
const describe = (error) => ({ error: `${error?.name}: ${error?.message}`, code: error?.code ?? null });

async function run(name, args, { cancel = false } = {}) {
  const started = wire.length;
  try {
    const execution = await session.callTool(name, args);
    const out = { kind: execution.kind, taskId: execution.kind === "task" ? execution.handle.taskId : null };
    if (cancel) {
      await execution.cancel();
    }
    // A task that never ends must not hang the whole run: each step has 30 s, then is cancelled and reported.
    let timer;
    const settled = await Promise.race([
      execution.settle(),
      new Promise((resolve) => { timer = setTimeout(() => resolve(null), 30000); }),
    ]);
    clearTimeout(timer);
    if (settled === null) {
      await execution.cancel().catch(() => {});
      return { ...out, error: "timeout: the execution did not settle within 30 s", wire: wire.slice(started) };
    }
    const { outcome } = settled;
    out.status = outcome.status;
    try {
      const result = resultFromTaskOutcome(outcome);
      out.text = text(result);
      out.isError = result.isError === true;
    } catch (error) {
      Object.assign(out, describe(error));
    }
    out.wire = wire.slice(started);
    return out;
  } catch (error) {
    return { ...describe(error), wire: wire.slice(started) };
  }
}

const out = { extTasks: {}, plain: {} };
try {
  out.extTasks.slow = await run("slow_compute", { seconds: 1, label: "interop" });
  out.extTasks.greet = await run("greet", { name: "ext-tasks" });
  out.extTasks.toolError = await run("failing_job", {});
  out.extTasks.protocolError = await run("protocol_error_job", {});
  out.extTasks.cancel = await run("slow_compute", { seconds: 60, label: "cancelled" }, { cancel: true });
  out.extTasks.confirm = await run("confirm_delete", { filename: "report.txt" });
  out.extTasks.multi = await run("multi_input", {});
  out.extTasks.elicited = elicited;
  await session.close();
} catch (error) {
  out.extTasks.crash = String(error?.stack ?? error);
}

try {
  const { Client } = await load("@modelcontextprotocol/sdk/client/index.js");
  const { StreamableHTTPClientTransport } = await load("@modelcontextprotocol/sdk/client/streamableHttp.js");
  const client = new Client({ name: "typescript-sdk-client", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  out.plain.protocolVersion = transport.protocolVersion ?? null;
  const slow = await client.callTool({ name: "slow_compute", arguments: { seconds: 1, label: "plain" } });
  out.plain.sdkSlow = { text: text(slow), taskId: slow.taskId ?? null, resultType: slow.resultType ?? null };
  try {
    await client.callTool({ name: "failing_job", arguments: {} });
    out.plain.sdkRequired = { error: null };
  } catch (error) {
    out.plain.sdkRequired = describe(error);
  }
  await transport.terminateSession().catch(() => {});
  await client.close();

  // 2026-07-28 without the extension in the request's capabilities.
  const bare = await post("tools/call", { name: "slow_compute", arguments: { seconds: 1, label: "bare" }, _meta: {
    "io.modelcontextprotocol/protocolVersion": PROTOCOL, "io.modelcontextprotocol/clientInfo": clientInfo,
    "io.modelcontextprotocol/clientCapabilities": {} } });
  out.plain.bareSlow = bare.error ? { error: bare.error.code } : { text: text(bare.result), resultType: bare.result.resultType, taskId: bare.result.taskId ?? null };
} catch (error) {
  out.plain.crash = String(error?.stack ?? error);
}

console.log(JSON.stringify({ interop: out }));
