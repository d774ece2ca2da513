// Preload (node --import) that forces every net.Server onto 127.0.0.1, for Node MCP servers that listen on all
// interfaces by themselves (server-everything's streamableHttp mode, the conformance suite's servers).
import net from "node:net";

const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "object" && args[0] !== null) {
    args[0] = { ...args[0], host: "127.0.0.1" };
  } else if (typeof args[0] === "number" || typeof args[0] === "string") {
    const port = args[0];
    const callback = args.slice(1).find((a) => typeof a === "function");
    return originalListen.call(this, { port: Number(port), host: "127.0.0.1" }, callback);
  }
  return originalListen.apply(this, args);
};
