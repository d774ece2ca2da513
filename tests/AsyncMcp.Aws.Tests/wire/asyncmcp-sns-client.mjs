// Speaks to an AsyncMcp SNS+SQS server at the wire level as asyncmcp's Python SNS+SQS client does: publishes
// JSON-RPC to the server topic with SNS message attributes and params._meta.clientTopicArn, and reads replies
// from its own queue subscribed to its own topic (raw or enveloped), using the AWS SDK for JavaScript.
// Environment: INFRA_DIR, ENDPOINT, SERVER_TOPIC_ARN, CLIENT_TOPIC_ARN, CLIENT_QUEUE_URL.
// Prints one JSON document with every reply (body, attributes, and whether it came in an SNS envelope).
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.INFRA_DIR, "package.json"));
const { SNSClient, PublishCommand } = require("@aws-sdk/client-sns");
const { SQSClient, ReceiveMessageCommand, DeleteMessageCommand } = require("@aws-sdk/client-sqs");

const config = { endpoint: process.env.ENDPOINT, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };
const sns = new SNSClient(config);
const sqs = new SQSClient(config);
const clientId = "python-like-sns-client";
let sessionId;

async function publish(message) {
  const attrs = {
    MessageType: { DataType: "String", StringValue: "jsonrpc" },
    Timestamp: { DataType: "Number", StringValue: String(Math.floor(Date.now() / 1000)) },
    ClientId: { DataType: "String", StringValue: clientId },
  };
  if (message.method) attrs.Method = { DataType: "String", StringValue: message.method };
  if (message.id !== undefined) attrs.RequestId = { DataType: "String", StringValue: String(message.id) };
  if (sessionId) attrs.SessionId = { DataType: "String", StringValue: sessionId };
  await sns.send(new PublishCommand({ TopicArn: process.env.SERVER_TOPIC_ARN, Message: JSON.stringify(message), MessageAttributes: attrs }));
}

const replies = [];
async function receiveReply(id) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const found = replies.find((r) => r.body.id === id);
    if (found) return found;
    const response = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: process.env.CLIENT_QUEUE_URL, MaxNumberOfMessages: 10, WaitTimeSeconds: 2, MessageAttributeNames: ["All"],
    }));
    for (const m of response.Messages ?? []) {
      const outer = JSON.parse(m.Body);
      if (outer.Type === "Notification" && typeof outer.Message === "string") {
        const attributes = Object.fromEntries(Object.entries(outer.MessageAttributes ?? {}).map(([k, v]) => [k, { DataType: v.Type, StringValue: v.Value }]));
        replies.push({ enveloped: true, body: JSON.parse(outer.Message), attributes });
      } else {
        replies.push({ enveloped: false, body: outer, attributes: m.MessageAttributes ?? {} });
      }
      await sqs.send(new DeleteMessageCommand({ QueueUrl: process.env.CLIENT_QUEUE_URL, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  throw new Error(`no reply with id ${id}`);
}

await publish({
  jsonrpc: "2.0", id: 1, method: "initialize",
  params: {
    protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "asyncmcp-python-like", version: "0.2.1" },
    _meta: { clientTopicArn: process.env.CLIENT_TOPIC_ARN },
  },
});
const init = await receiveReply(1);
sessionId = init.attributes.SessionId?.StringValue;
await publish({ jsonrpc: "2.0", method: "notifications/initialized" });
await publish({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "echo", arguments: { message: "from python over sns" } } });
await receiveReply(2);
process.stdout.write(JSON.stringify({ sessionId, replies }) + "\n");
