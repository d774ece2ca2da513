// Starts the fauxqs SQS/SNS/S3 emulator bound to 127.0.0.1 only.
// fauxqs listens on 0.0.0.0 by itself, so every net.Server is forced onto loopback before it is imported.
// Usage: node fauxqs-loopback.mjs [--port N] [--data-dir DIR]
// Prints one line "FAUXQS_READY <port>" on stdout once the emulator answers.
import net from "node:net";

const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "object" && args[0] !== null) {
    args[0] = { ...args[0], host: "127.0.0.1" };
  } else if (typeof args[0] === "number" || typeof args[0] === "string") {
    const port = args[0];
    const rest = args.slice(1).filter((a) => typeof a === "function" || typeof a === "number");
    const callback = rest.find((a) => typeof a === "function");
    return originalListen.call(this, { port: Number(port), host: "127.0.0.1" }, callback);
  }
  return originalListen.apply(this, args);
};

function option(name, fallback) {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const { startFauxqs } = await import("fauxqs");
const port = Number(option("--port", "0"));
const dataDir = option("--data-dir", undefined);
const server = await startFauxqs({ port, host: "127.0.0.1", logger: false, dataDir });
process.stdout.write(`FAUXQS_READY ${server.port}\n`);

const stop = async () => {
  try { await server.stop(); } finally { process.exit(0); }
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
