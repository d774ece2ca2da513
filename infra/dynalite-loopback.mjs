// Starts the dynalite DynamoDB emulator bound to 127.0.0.1 only, with DynamoDB's TTL settings API added.
// dynalite 4.0.0 has no UpdateTimeToLive and always describes TTL as DISABLED; this wrapper keeps TTL settings per
// table and answers UpdateTimeToLive / DescribeTimeToLive as DynamoDB documents them (ResourceNotFoundException for a
// missing table, ValidationException when TTL is already in the state asked for). It does not delete expired items:
// DynamoDB's own sweep takes up to days, so readers must filter expired items anyway.
// Usage: node dynalite-loopback.mjs [--port N] [--createTableMs MS]
// Prints one line "DYNALITE_READY <port>" on stdout once the emulator listens.
import dynalite from "dynalite";
import http from "node:http";
import { PassThrough } from "node:stream";

function option(name, fallback) {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const tableMs = Number(option("--createTableMs", "50"));
const server = dynalite({ createTableMs: tableMs, deleteTableMs: tableMs, updateTableMs: tableMs });
const inner = server.listeners("request")[0];
server.removeAllListeners("request");
const ttlByTable = new Map();

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

// Hands a request whose body was already read to dynalite as if it had just arrived.
function replay(req, res, body) {
  const copy = new PassThrough();
  Object.assign(copy, { headers: req.headers, method: req.method, url: req.url });
  inner(copy, res);
  copy.end(body);
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/x-amz-json-1.0", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

const validation = (message) => ({ __type: "com.amazon.coral.validate#ValidationException", message });

// Asks dynalite itself whether the table exists, with the caller's credentials.
function describeTable(req, tableName) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ TableName: tableName });
    const ask = http.request({
      host: "127.0.0.1", port: server.address().port, method: "POST", path: "/",
      headers: { ...req.headers, "x-amz-target": "DynamoDB_20120810.DescribeTable", "content-length": Buffer.byteLength(body) },
    }, (answer) => readBody(answer).then((b) => resolve({ status: answer.statusCode, body: b.toString() }), reject));
    ask.on("error", reject);
    ask.end(body);
  });
}

async function timeToLive(req, res, operation, body) {
  let data;
  try { data = JSON.parse(body.toString() || "{}"); } catch { return send(res, 400, { __type: "com.amazon.coral.service#SerializationException" }); }
  const table = await describeTable(req, data.TableName);
  if (table.status !== 200) {
    res.writeHead(table.status, { "Content-Type": "application/x-amz-json-1.0" });
    return res.end(table.body);
  }
  const current = ttlByTable.get(data.TableName);
  if (operation === "DescribeTimeToLive") {
    return send(res, 200, { TimeToLiveDescription: current ? { TimeToLiveStatus: "ENABLED", AttributeName: current } : { TimeToLiveStatus: "DISABLED" } });
  }
  const spec = data.TimeToLiveSpecification;
  if (!spec || typeof spec.Enabled !== "boolean" || typeof spec.AttributeName !== "string" || spec.AttributeName.length === 0) {
    return send(res, 400, validation("TimeToLiveSpecification needs Enabled and a non-empty AttributeName"));
  }
  if (spec.Enabled && current) return send(res, 400, validation("TimeToLive is already enabled"));
  if (!spec.Enabled && !current) return send(res, 400, validation("TimeToLive is already disabled"));
  if (spec.Enabled) ttlByTable.set(data.TableName, spec.AttributeName); else ttlByTable.delete(data.TableName);
  return send(res, 200, { TimeToLiveSpecification: spec });
}

server.on("request", (req, res) => {
  const operation = String(req.headers["x-amz-target"] ?? "").split(".")[1];
  if (operation !== "UpdateTimeToLive" && operation !== "DescribeTimeToLive" && operation !== "DeleteTable") {
    return inner(req, res);
  }
  readBody(req).then(async (body) => {
    if (operation === "DeleteTable") {
      // A table created again under the same name starts without TTL, as in DynamoDB.
      try { ttlByTable.delete(JSON.parse(body.toString()).TableName); } catch { /* dynalite answers the bad body */ }
      return replay(req, res, body);
    }
    return timeToLive(req, res, operation, body);
  }).catch((error) => send(res, 500, { __type: "com.amazonaws.dynamodb.v20120810#InternalServerError", message: String(error) }));
});

server.listen(Number(option("--port", "0")), "127.0.0.1", () => {
  process.stdout.write(`DYNALITE_READY ${server.address().port}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
