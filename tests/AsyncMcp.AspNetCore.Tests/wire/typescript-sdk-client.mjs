// A standard MCP client that knows nothing of webhooks: the official TypeScript SDK (npm @modelcontextprotocol/sdk)
// over Streamable HTTP. Lists the tools, calls a fast tool and a webhook tool with progress (it names no webhook, so
// the hybrid server answers it on the stream), and prints one JSON document on stdout.
// Environment: INFRA_DIR, SERVER_URL.
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(path.join(process.env.INFRA_DIR, "package.json"));
const load = (specifier) => import(pathToFileURL(require.resolve(specifier)).href);
const { Client } = await load("@modelcontextprotocol/sdk/client/index.js");
const { StreamableHTTPClientTransport } = await load("@modelcontextprotocol/sdk/client/streamableHttp.js");

const out = {};
try {
  const client = new Client({ name: "typescript-sdk-client", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(process.env.SERVER_URL));
  await client.connect(transport);
  out.sessionId = transport.sessionId ?? null;
  out.protocolVersion = transport.protocolVersion ?? null;
  out.tools = (await client.listTools()).tools.map((t) => ({ name: t.name, delivery: t._meta?.["asyncmcp/delivery"] ?? null }));
  out.echo = await client.callTool({ name: "echo", arguments: { message: "from typescript" } });
  const progress = [];
  out.slow = await client.callTool({ name: "slow", arguments: { steps: 3, delayMs: 20 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
  out.progress = progress;
  await transport.terminateSession();
  await client.close();
} catch (error) {
  out.error = String(error?.stack ?? error);
}

console.log(JSON.stringify({ typescript: out }));
process.exit(0);
