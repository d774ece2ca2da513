// An MCP server that behaves on the wire as asyncmcp's Python SQS and SNS+SQS servers do (release 0.2.1 or the
// main branch), for testing our clients against them:
// - it deletes each message as soon as it has received it, before handling it;
// - it validates the ProtocolVersion attribute, when present, against 2024-11-05, 2025-03-26 and 2025-06-18, and
//   drops a message whose attribute is not one of them without a reply (a message without it is accepted);
// - initialize opens a session with a uuid4().hex id; the reply address is read, 0.2.1: only from
//   params.response_queue_url (sqs) / params.client_topic_arn (sns-sqs); main: only from
//   params._meta.responseQueueUrl / params._meta.clientTopicArn; an initialize without it gets no reply;
// - it answers initialize with the revision asked for if it knows it, else its own latest (2025-06-18), as a Python
//   MCP server does;
// - replies carry MessageType, Timestamp and SessionId (no ClientId); notifications also Method;
// - a message without a known SessionId that is not initialize is dropped without a reply;
// - a request whose method it does not know (server/discover, say) gets no reply at all; a known MCP method it does
//   not serve gets -32601; an unknown notification is logged as a validation warning.
// Serves ping, tools/list and tools/call of "echo" and of "count" (progress notifications when asked for).
//
// Usage: node asyncmcp-server.mjs --release 0.2.1|main --transport sqs|sns-sqs
// Environment: INFRA_DIR, ENDPOINT, REQUEST_QUEUE_URL (the queue it polls: the request queue, or for sns-sqs its
// queue subscribed to the server topic).
// Prints "READY" once polling, then one line per message received: RECEIVED {"method","id","attributes","params",
// "outcome"}, and "WARNING ..." lines as the Python server would log them. Runs until killed.
import { createRequire } from "node:module";
import path from "node:path";
import { randomUUID } from "node:crypto";

const require = createRequire(path.join(process.env.INFRA_DIR, "package.json"));
const { SQSClient, SendMessageCommand, ReceiveMessageCommand, DeleteMessageCommand } = require("@aws-sdk/client-sqs");
const { SNSClient, PublishCommand } = require("@aws-sdk/client-sns");

function option(name, allowed) {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? process.argv[index + 1] : undefined;
  if (!allowed.includes(value)) throw new Error(`${name} must be one of ${allowed.join(", ")} (was ${value})`);
  return value;
}

const release = option("--release", ["0.2.1", "main"]);
const transport = option("--transport", ["sqs", "sns-sqs"]);
const config = { endpoint: process.env.ENDPOINT, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };
const sqs = new SQSClient(config);
const sns = new SNSClient(config);
const queueUrl = process.env.REQUEST_QUEUE_URL;

const SUPPORTED = ["2024-11-05", "2025-03-26", "2025-06-18"];
const LATEST = "2025-06-18";
const KNOWN_REQUESTS = new Set([
  "initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/templates/list", "resources/read",
  "resources/subscribe", "resources/unsubscribe", "prompts/list", "prompts/get", "logging/setLevel", "completion/complete",
]);
const KNOWN_NOTIFICATIONS = new Set(["notifications/initialized", "notifications/cancelled", "notifications/progress", "notifications/roots/list_changed"]);
const sessions = new Map();

function replyAddress(params) {
  if (release === "0.2.1") return transport === "sqs" ? params?.response_queue_url : params?.client_topic_arn;
  return transport === "sqs" ? params?._meta?.responseQueueUrl : params?._meta?.clientTopicArn;
}

async function send(address, sessionId, body) {
  const attributes = {
    MessageType: { DataType: "String", StringValue: "jsonrpc" },
    Timestamp: { DataType: "Number", StringValue: String(Math.floor(Date.now() / 1000)) },
    SessionId: { DataType: "String", StringValue: sessionId },
  };
  if (body.method) attributes.Method = { DataType: "String", StringValue: body.method };
  const message = JSON.stringify(body);
  if (transport === "sqs") {
    await sqs.send(new SendMessageCommand({ QueueUrl: address, MessageBody: message, MessageAttributes: attributes }));
  } else {
    await sns.send(new PublishCommand({ TopicArn: address, Message: message, MessageAttributes: attributes }));
  }
}

// The body and string attributes of a received message, unwrapped from an SNS envelope (an SQS attribute wins).
function unwrap(m) {
  const attributes = {};
  let body = m.Body;
  try {
    const outer = JSON.parse(body);
    if (outer && outer.Type === "Notification" && typeof outer.Message === "string") {
      body = outer.Message;
      for (const [k, v] of Object.entries(outer.MessageAttributes ?? {})) attributes[k] = v.Value;
    }
  } catch { /* not JSON: reported below */ }
  for (const [k, v] of Object.entries(m.MessageAttributes ?? {})) attributes[k] = v.StringValue;
  return { body, attributes };
}

function report(msg, attributes, outcome) {
  process.stdout.write("RECEIVED " + JSON.stringify({ method: msg?.method, id: msg?.id, attributes, params: msg?.params, outcome }) + "\n");
}

async function callTool(session, msg) {
  const { name, arguments: args = {}, _meta: meta } = msg.params ?? {};
  if (name === "echo") {
    return { content: [{ type: "text", text: "python echo: " + args.message }] };
  }
  if (name === "count") {
    const steps = Number(args.steps ?? 3);
    for (let i = 1; i <= steps; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (meta?.progressToken !== undefined) {
        await send(session.address, session.id, {
          jsonrpc: "2.0", method: "notifications/progress",
          params: { progressToken: meta.progressToken, progress: i, total: steps, message: `step ${i} of ${steps}` },
        });
      }
    }
    return { content: [{ type: "text", text: `counted to ${steps}` }] };
  }
  return { content: [{ type: "text", text: `Unknown tool: ${name}` }], isError: true };
}

async function handle(m) {
  const { body, attributes } = unwrap(m);
  let msg;
  try {
    msg = JSON.parse(body);
  } catch {
    process.stdout.write("WARNING invalid JSON message dropped\n");
    report(undefined, attributes, "invalid-json");
    return;
  }

  const version = attributes.ProtocolVersion;
  if (version !== undefined && !SUPPORTED.includes(version)) {
    report(msg, attributes, "dropped-protocol-version");
    return;
  }

  if (msg.method === "initialize") {
    const address = replyAddress(msg.params);
    if (!address) {
      report(msg, attributes, "dropped-no-reply-address");
      return;
    }
    const session = { id: randomUUID().replaceAll("-", ""), address };
    sessions.set(session.id, session);
    report(msg, attributes, "session " + session.id);
    const asked = msg.params?.protocolVersion;
    await send(address, session.id, {
      jsonrpc: "2.0", id: msg.id,
      result: {
        protocolVersion: SUPPORTED.includes(asked) ? asked : LATEST,
        capabilities: { tools: { listChanged: false } },
        serverInfo: { name: "asyncmcp-python-fake", version: release },
      },
    });
    return;
  }

  const session = sessions.get(attributes.SessionId);
  if (!session) {
    report(msg, attributes, "dropped-no-session");
    return;
  }

  if (msg.id === undefined || msg.id === null) {
    if (msg.method && !KNOWN_NOTIFICATIONS.has(msg.method)) {
      process.stdout.write(`WARNING Failed to validate notification: ${msg.method}\n`);
      report(msg, attributes, "validation-warning");
      return;
    }
    report(msg, attributes, "notification");
    return;
  }

  if (!KNOWN_REQUESTS.has(msg.method)) {
    report(msg, attributes, "ignored-unknown-method");
    return;
  }

  report(msg, attributes, "answered");
  let answer;
  if (msg.method === "ping") answer = { result: {} };
  else if (msg.method === "tools/list") {
    answer = {
      result: {
        tools: [
          { name: "echo", description: "Echoes the message.", inputSchema: { type: "object", properties: { message: { type: "string" } } } },
          { name: "count", description: "Counts to steps, reporting progress.", inputSchema: { type: "object", properties: { steps: { type: "integer" } } } },
        ],
      },
    };
  } else if (msg.method === "tools/call") answer = { result: await callTool(session, msg) };
  else answer = { error: { code: -32601, message: "Method not found" } };
  await send(session.address, session.id, { jsonrpc: "2.0", id: msg.id, ...answer });
}

process.stdout.write("READY\n");
for (;;) {
  let response;
  try {
    response = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20, MessageAttributeNames: ["All"] }));
  } catch (error) {
    process.stdout.write(`WARNING receive failed: ${error.message}\n`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    continue;
  }
  for (const m of response.Messages ?? []) {
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    handle(m).catch((error) => process.stdout.write(`WARNING handling failed: ${error.message}\n`));
  }
}
