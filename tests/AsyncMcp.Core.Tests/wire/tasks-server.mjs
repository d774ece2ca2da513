// A wire-level fake of an MCP server that implements the Tasks extension (io.modelcontextprotocol/tasks, SEP-2663,
// draft for protocol 2026-07-28), written from the extension's specification and schema. Newline-delimited JSON-RPC
// over stdio.
//
// Tasks are durable: each is a JSON file in TASKS_STATE_DIR, and a task's status is derived from that record and the
// clock, so a second server process sharing the folder (a new connection from another client process) answers
// tasks/get, tasks/update and tasks/cancel for tasks the first one created.
//
// Tools: greet (always immediate), slow_compute (task when the request declares the extension, else the same work
// synchronously; status message per step), failing_job (task only; ends failed with a JSON-RPC error; -32021 without
// the extension), confirm_delete (task that asks for confirmation through an elicitation input request), and two
// deliberately malformed ones for the client's error handling: malformed_task (tasks/get answers a state without ttlMs
// and with an unknown status) and malformed_handle (a task handle without taskId).
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";

const EXT = "io.modelcontextprotocol/tasks";
const PROTOCOL = "2026-07-28";
const stateDir = process.env.TASKS_STATE_DIR;
if (!stateDir) {
  process.stderr.write("tasks-server: TASKS_STATE_DIR is required\n");
  process.exit(2);
}
fs.mkdirSync(stateDir, { recursive: true });

const TTL_MS = 300000;
const POLL_MS = 50;

const tools = [
  { name: "greet", description: "Greets, at once.", inputSchema: { type: "object", properties: { name: { type: "string" } } } },
  { name: "slow_compute", description: "Works through steps; a task when the client supports tasks.",
    inputSchema: { type: "object", properties: { label: { type: "string" }, steps: { type: "integer" }, stepMs: { type: "integer" } } } },
  { name: "failing_job", description: "A task that fails (tasks only).", inputSchema: { type: "object" } },
  { name: "confirm_delete", description: "Asks for confirmation, then deletes.", inputSchema: { type: "object", properties: { filename: { type: "string" } } } },
  { name: "malformed_task", description: "A task whose state is malformed.", inputSchema: { type: "object" } },
  { name: "malformed_handle", description: "A malformed task handle.", inputSchema: { type: "object" } },
];

const iso = (ms) => new Date(ms).toISOString();
const text = (t, isError) => ({ resultType: "complete", content: [{ type: "text", text: t }], ...(isError ? { isError: true } : {}) });
const declares = (params) => {
  const e = params?._meta?.["io.modelcontextprotocol/clientCapabilities"]?.extensions?.[EXT];
  return e !== null && typeof e === "object" && !Array.isArray(e);
};
const missingExtension = { code: -32021, message: "Missing required client capability",
  data: { requiredCapabilities: { extensions: { [EXT]: {} } } } };
const notFound = { code: -32602, message: "Failed to retrieve task: Task not found" };

const file = (taskId) => path.join(stateDir, `${taskId}.json`);
function load(taskId) {
  if (typeof taskId !== "string" || !/^[A-Za-z0-9_-]{16,}$/.test(taskId)) return null;
  try { return JSON.parse(fs.readFileSync(file(taskId), "utf8")); } catch { return null; }
}
function save(t) {
  const tmp = file(t.taskId) + ".tmp";
  fs.writeFileSync(tmp, JSON.stringify(t));
  fs.renameSync(tmp, file(t.taskId));   // the record is durable before the handle goes out
}

// The task's state now: its record plus the clock. Terminal states are written once and never change.
function current(t) {
  if (t.final) return t.final;
  const now = Date.now();
  const elapsed = now - t.createdAt;
  switch (t.tool) {
    case "slow_compute": {
      const { steps, stepMs, label } = t.args;
      if (elapsed >= steps * stepMs) {
        return settle(t, { status: "completed", at: t.createdAt + steps * stepMs,
          result: text(`Computed ${label} in ${steps} steps.`), statusMessage: "done" });
      }
      const step = Math.floor(elapsed / stepMs);
      return { status: "working", at: t.createdAt + step * stepMs, statusMessage: `step ${step + 1} of ${steps}` };
    }
    case "failing_job":
      if (elapsed >= 100) {
        return settle(t, { status: "failed", at: t.createdAt + 100, statusMessage: "Tool execution failed: upstream refused",
          error: { code: -32603, message: "upstream refused" } });
      }
      return { status: "working", at: t.createdAt };
    case "confirm_delete": {
      const answer = t.answers?.confirm;
      if (!answer) {
        return { status: "input_required", at: t.createdAt, statusMessage: "Waiting for confirmation",
          inputRequests: { confirm: { method: "elicitation/create", params: { mode: "form",
            message: `Delete ${t.args.filename}?`,
            requestedSchema: { type: "object", properties: { confirm: { type: "boolean" } }, required: ["confirm"] } } } } };
      }
      const yes = answer.action === "accept" && answer.content?.confirm === true;
      return settle(t, { status: "completed", at: t.answeredAt, result: text(yes ? `Deleted ${t.args.filename}.` : `Kept ${t.args.filename}.`) });
    }
    default:
      return { status: "working", at: t.createdAt };
  }
}
function settle(t, final) { t.final = final; save(t); return final; }

function view(t) {
  const s = current(t);
  const v = { taskId: t.taskId, status: s.status, createdAt: iso(t.createdAt), lastUpdatedAt: iso(s.at),
    ttlMs: TTL_MS, pollIntervalMs: POLL_MS };
  if (s.statusMessage) v.statusMessage = s.statusMessage;
  if (s.status === "input_required") v.inputRequests = s.inputRequests;
  if (s.status === "completed") v.result = s.result;
  if (s.status === "failed") v.error = s.error;
  return v;
}

function createTask(tool, args) {
  const t = { taskId: randomBytes(16).toString("base64url"), tool, args, createdAt: Date.now() };
  save(t);
  const { taskId, status, createdAt, lastUpdatedAt, ttlMs, pollIntervalMs } = view(t);
  return { result: { resultType: "task", taskId, status, createdAt, lastUpdatedAt, ttlMs, pollIntervalMs } };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function callTool(p) {
  const args = p.arguments ?? {};
  const ext = declares(p);
  switch (p.name) {
    case "greet":
      return { result: text(`Hello, ${args.name ?? "world"}!`) };
    case "slow_compute": {
      const a = { label: String(args.label ?? "it"), steps: Number(args.steps ?? 3), stepMs: Number(args.stepMs ?? 100) };
      if (ext) return createTask("slow_compute", a);
      await sleep(a.steps * a.stepMs);     // the same work, held on the request, for a client without tasks
      return { result: text(`Computed ${a.label} in ${a.steps} steps.`) };
    }
    case "failing_job":
      return ext ? createTask("failing_job", {}) : { error: missingExtension };
    case "confirm_delete":
      return ext ? createTask("confirm_delete", { filename: String(args.filename ?? "file") }) : { error: missingExtension };
    case "malformed_task":
      return ext ? createTask("malformed_task", {}) : { error: missingExtension };
    case "malformed_handle":
      return { result: { resultType: "task", status: "working", createdAt: iso(Date.now()), lastUpdatedAt: iso(Date.now()), ttlMs: null } };
    default:
      return { error: { code: -32602, message: `Unknown tool: ${p.name}` } };
  }
}

function tasksMethod(method, p) {
  if (!declares(p)) return { error: missingExtension };   // the capability gate comes before the lookup
  const t = load(p?.taskId);
  if (!t) return { error: notFound };
  if (method === "tasks/get") {
    if (t.tool === "malformed_task") {
      return { result: { resultType: "complete", taskId: t.taskId, status: "running", createdAt: iso(t.createdAt), lastUpdatedAt: iso(t.createdAt) } };
    }
    return { result: { resultType: "complete", ...view(t) } };
  }
  if (method === "tasks/cancel") {
    const s = current(t);
    if (!["completed", "failed", "cancelled"].includes(s.status)) {
      settle(t, { status: "cancelled", at: Date.now(), statusMessage: "Cancelled by the client" });
    }
    return { result: { resultType: "complete" } };            // a terminal task gets the same plain ack
  }
  // tasks/update: answers to keys that are not outstanding are ignored.
  const s = current(t);
  if (s.status === "input_required") {
    for (const [key, value] of Object.entries(p.inputResponses ?? {})) {
      if (!(key in s.inputRequests)) continue;
      t.answers = { ...(t.answers ?? {}), [key]: value };
      t.answeredAt = Date.now();
    }
    save(t);
  }
  return { result: { resultType: "complete" } };
}

async function handle(msg) {
  const p = msg.params ?? {};
  switch (msg.method) {
    case "server/discover":
      return { result: { resultType: "complete", supportedVersions: [PROTOCOL], capabilities: { tools: {}, extensions: { [EXT]: {} } },
        ttlMs: 0, cacheScope: "private", _meta: { "io.modelcontextprotocol/serverInfo": { name: "tasks-fake", version: "1.0.0" } } } };
    case "tools/list":
      return { result: { resultType: "complete", tools } };
    case "tools/call":
      return callTool(p);
    case "tasks/get":
    case "tasks/update":
    case "tasks/cancel":
      return tasksMethod(msg.method, p);
    case "ping":
      return { result: {} };
    default:
      return { error: { code: -32601, message: `Method not found: ${msg.method}` } };
  }
}

const send = (m) => process.stdout.write(JSON.stringify(m) + "\n");
readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  if (!line.trim()) return;
  let msg;
  try { msg = JSON.parse(line); } catch { send({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } }); return; }
  if (msg.id === undefined || msg.method === undefined) return;   // notifications and responses
  try {
    const answer = await handle(msg);
    send({ jsonrpc: "2.0", id: msg.id, ...answer });
  } catch (e) {
    send({ jsonrpc: "2.0", id: msg.id, error: { code: -32603, message: String(e?.message ?? e) } });
  }
});
