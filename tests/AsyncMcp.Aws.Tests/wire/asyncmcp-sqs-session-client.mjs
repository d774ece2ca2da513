// An asyncmcp-style SQS client (as asyncmcp's Python client does it: raw messages with its attributes, the reply
// address in params._meta.responseQueueUrl, every message to the one request queue it knows) that opens a session and
// makes CALLS calls of the "slow" tool with a progress token, one after another.
// It knows nothing of workers: with several workers on the queue, most of its messages reach one that does not hold
// its session and must be handed over.
// INIT_QUEUE_URL, when set, is where the initialize goes (a test's way to choose the worker that opens the session).
// Environment: INFRA_DIR, ENDPOINT, REQUEST_QUEUE_URL, RESPONSE_QUEUE_URL, CALLS, CLIENT_ID, STEPS and DELAY_MS (of
// each call), WARM_AFTER (prints "WARM <session id>" after that many calls, so a test can act mid-traffic).
// Prints one JSON line: { sessionId, calls: [{ id, text, progress, error }] } where error is the JSON-RPC error of a
// call that failed, or null.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.INFRA_DIR, "package.json"));
const {
  SQSClient, SendMessageCommand, ReceiveMessageCommand, DeleteMessageCommand,
} = require("@aws-sdk/client-sqs");

const sqs = new SQSClient({
  endpoint: process.env.ENDPOINT,
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const requestQueueUrl = process.env.REQUEST_QUEUE_URL;
const responseQueueUrl = process.env.RESPONSE_QUEUE_URL;
const calls = Number(process.env.CALLS ?? "10");
const clientId = process.env.CLIENT_ID ?? "python-like-client";
const steps = Number(process.env.STEPS ?? "2");
const delayMs = Number(process.env.DELAY_MS ?? "20");
const warmAfter = Number(process.env.WARM_AFTER ?? "0");
let sessionId;

function attributes(message) {
  const attrs = {
    MessageType: { DataType: "String", StringValue: "jsonrpc" },
    Timestamp: { DataType: "Number", StringValue: String(Math.floor(Date.now() / 1000)) },
    ClientId: { DataType: "String", StringValue: clientId },
    ProtocolVersion: { DataType: "String", StringValue: "2025-06-18" },
  };
  if (message.method) attrs.Method = { DataType: "String", StringValue: message.method };
  if (message.id !== undefined) attrs.RequestId = { DataType: "String", StringValue: String(message.id) };
  if (sessionId) attrs.SessionId = { DataType: "String", StringValue: sessionId };
  return attrs;
}

async function send(message) {
  const queueUrl = message.method === "initialize" && process.env.INIT_QUEUE_URL ? process.env.INIT_QUEUE_URL : requestQueueUrl;
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message), MessageAttributes: attributes(message) }));
}

const progress = new Map();
const answers = new Map();
async function answerTo(id) {
  const deadline = Date.now() + (id === -1 ? 1_000 : 60_000);
  while (Date.now() < deadline) {
    if (answers.has(id)) return answers.get(id);
    const response = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: responseQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ["All"],
    }));
    for (const m of response.Messages ?? []) {
      const body = JSON.parse(m.Body);
      if (body.method === "notifications/progress") {
        const token = body.params.progressToken;
        progress.set(token, (progress.get(token) ?? 0) + 1);
      } else if (body.id !== undefined) {
        answers.set(body.id, { body, attributes: m.MessageAttributes ?? {} });
      }
      await sqs.send(new DeleteMessageCommand({ QueueUrl: responseQueueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  throw new Error(`no answer to ${id} within 60 s`);
}

await send({
  jsonrpc: "2.0", id: 0, method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "asyncmcp-python-like", version: "0.2.1" }, _meta: { responseQueueUrl } },
});
const init = await answerTo(0);
sessionId = init.attributes.SessionId?.StringValue;
await send({ jsonrpc: "2.0", method: "notifications/initialized" });

const results = [];
for (let i = 1; i <= calls; i++) {
  const token = `${clientId}-p${i}`;
  await send({ jsonrpc: "2.0", id: i, method: "tools/call", params: { name: "slow", arguments: { steps, delayMs }, _meta: { progressToken: token } } });
  const { body } = await answerTo(i);
  results.push({ id: i, token, text: body.result?.content?.[0]?.text ?? null, error: body.error ?? null });
  if (i === warmAfter) process.stdout.write(`WARM ${sessionId}\n`);
  if (body.error) break;
}

// A standard queue does not keep order: a call's last progress may come after its answer. Wait for it, with a deadline.
const drainUntil = Date.now() + 10_000;
while (results.some((r) => !r.error && (progress.get(r.token) ?? 0) < steps) && Date.now() < drainUntil) {
  await answerTo(-1).catch(() => {});
}
for (const r of results) r.progress = progress.get(r.token) ?? 0;

process.stdout.write(JSON.stringify({ sessionId, calls: results }) + "\n");
