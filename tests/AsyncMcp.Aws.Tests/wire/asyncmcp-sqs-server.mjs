// An SQS MCP server that behaves on the wire as asyncmcp's Python SQS server does: it knows only the
// initialize handshake, mints uuid4().hex session ids, reads the reply queue from params._meta.responseQueueUrl,
// answers with SessionId but no ClientId, and deletes (without reply) any non-initialize message that has no
// SessionId, such as the 2026-07-28 server/discover probe. Serves: initialize, ping, tools/list, tools/call echo.
// Environment: INFRA_DIR, ENDPOINT, REQUEST_QUEUE_URL. Prints "READY" once polling; runs until killed.
import { createRequire } from "node:module";
import path from "node:path";
import { randomUUID } from "node:crypto";

const require = createRequire(path.join(process.env.INFRA_DIR, "package.json"));
const { SQSClient, SendMessageCommand, ReceiveMessageCommand, DeleteMessageCommand } = require("@aws-sdk/client-sqs");

const sqs = new SQSClient({
  endpoint: process.env.ENDPOINT,
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const requestQueueUrl = process.env.REQUEST_QUEUE_URL;
const sessions = new Map();

async function reply(queueUrl, sessionId, body) {
  await sqs.send(new SendMessageCommand({
    QueueUrl: queueUrl,
    MessageBody: JSON.stringify(body),
    MessageAttributes: {
      MessageType: { DataType: "String", StringValue: "jsonrpc" },
      Timestamp: { DataType: "Number", StringValue: String(Math.floor(Date.now() / 1000)) },
      SessionId: { DataType: "String", StringValue: sessionId },
    },
  }));
}

process.stdout.write("READY\n");
for (;;) {
  const response = await sqs.send(new ReceiveMessageCommand({
    QueueUrl: requestQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20, MessageAttributeNames: ["All"],
  }));
  for (const m of response.Messages ?? []) {
    await sqs.send(new DeleteMessageCommand({ QueueUrl: requestQueueUrl, ReceiptHandle: m.ReceiptHandle }));
    const msg = JSON.parse(m.Body);
    const attrs = m.MessageAttributes ?? {};
    let sessionId = attrs.SessionId?.StringValue;
    if (msg.method === "initialize") {
      sessionId = randomUUID().replaceAll("-", "");
      sessions.set(sessionId, msg.params?._meta?.responseQueueUrl ?? msg.params?.response_queue_url);
      await reply(sessions.get(sessionId), sessionId, {
        jsonrpc: "2.0", id: msg.id,
        result: { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "python-like-server", version: "0.2.1" } },
      });
      continue;
    }
    if (!sessionId || !sessions.has(sessionId)) continue; // dropped without reply, as asyncmcp does
    const queue = sessions.get(sessionId);
    if (msg.id === undefined) continue; // notifications
    if (msg.method === "ping") await reply(queue, sessionId, { jsonrpc: "2.0", id: msg.id, result: {} });
    else if (msg.method === "tools/list") {
      await reply(queue, sessionId, { jsonrpc: "2.0", id: msg.id, result: { tools: [{ name: "echo", inputSchema: { type: "object", properties: { message: { type: "string" } } } }] } });
    } else if (msg.method === "tools/call") {
      await reply(queue, sessionId, { jsonrpc: "2.0", id: msg.id, result: { content: [{ type: "text", text: "python echo: " + msg.params.arguments.message }] } });
    } else {
      await reply(queue, sessionId, { jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: "Method not found" } });
    }
  }
}
