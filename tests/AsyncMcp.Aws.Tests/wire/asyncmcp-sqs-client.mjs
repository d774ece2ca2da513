// Speaks to an AsyncMcp SQS server at the wire level exactly as asyncmcp's Python SQS client does
// (raw SQS messages with its attributes and params._meta.responseQueueUrl), using the AWS SDK for JavaScript.
// Environment: INFRA_DIR, ENDPOINT, REQUEST_QUEUE_URL, RESPONSE_QUEUE_URL, MODE (meta | legacy | sns-envelope).
// Prints one JSON document with every reply (body and attributes with their data types) on stdout.
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
const mode = process.env.MODE ?? "meta";
const clientId = "python-like-client";
let sessionId;

function attributes(message) {
  const attrs = {
    MessageType: { DataType: "String", StringValue: "jsonrpc" },
    Timestamp: { DataType: "Number", StringValue: String(Math.floor(Date.now() / 1000)) },
    ClientId: { DataType: "String", StringValue: clientId },
  };
  if (message.method) attrs.Method = { DataType: "String", StringValue: message.method };
  if (message.id !== undefined) attrs.RequestId = { DataType: "String", StringValue: String(message.id) };
  if (sessionId) attrs.SessionId = { DataType: "String", StringValue: sessionId };
  return attrs;
}

async function send(message) {
  const attrs = attributes(message);
  if (mode === "sns-envelope") {
    const envelope = {
      Type: "Notification",
      MessageId: crypto.randomUUID(),
      TopicArn: "arn:aws:sns:us-east-1:000000000000:server-topic",
      Message: JSON.stringify(message),
      Timestamp: new Date().toISOString(),
      MessageAttributes: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, { Type: v.DataType, Value: v.StringValue }])),
    };
    await sqs.send(new SendMessageCommand({ QueueUrl: requestQueueUrl, MessageBody: JSON.stringify(envelope) }));
  } else {
    await sqs.send(new SendMessageCommand({ QueueUrl: requestQueueUrl, MessageBody: JSON.stringify(message), MessageAttributes: attrs }));
  }
}

const replies = [];
async function receiveReply(id) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const found = replies.find((r) => r.body.id === id);
    if (found) return found;
    const response = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: responseQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2, MessageAttributeNames: ["All"],
    }));
    for (const m of response.Messages ?? []) {
      replies.push({ body: JSON.parse(m.Body), attributes: m.MessageAttributes ?? {} });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: responseQueueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  throw new Error(`no reply with id ${id}`);
}

const initParams = {
  protocolVersion: "2025-11-25",
  capabilities: {},
  clientInfo: { name: "asyncmcp-python-like", version: "0.2.1" },
};
if (mode === "legacy") initParams.response_queue_url = responseQueueUrl;
else initParams._meta = { responseQueueUrl };

await send({ jsonrpc: "2.0", id: 1, method: "initialize", params: initParams });
const init = await receiveReply(1);
sessionId = init.attributes.SessionId?.StringValue;
await send({ jsonrpc: "2.0", method: "notifications/initialized" });
await send({ jsonrpc: "2.0", id: 2, method: "tools/list", params: {} });
await receiveReply(2);
await send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "echo", arguments: { message: "from python" } } });
await receiveReply(3);

process.stdout.write(JSON.stringify({ sessionId, replies }) + "\n");
