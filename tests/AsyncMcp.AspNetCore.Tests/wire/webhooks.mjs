// What the wire scripts share: the Standard Webhooks reference implementation (npm standardwebhooks, from INFRA_DIR),
// reading a request body, verifying a received webhook and the headers of a signed one.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.INFRA_DIR, "package.json"));

/** The reference implementation's Webhook class. */
export const { Webhook } = require("standardwebhooks");

/** The whole body of an incoming request, as UTF-8 text. */
export function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Whether the reference implementation accepts the request's signature; null when there is no secret to check with. */
export function verified(webhook, body, headers) {
  if (!webhook) return null;
  try {
    webhook.verify(body, {
      "webhook-id": headers["webhook-id"],
      "webhook-timestamp": headers["webhook-timestamp"],
      "webhook-signature": headers["webhook-signature"],
    });
    return true;
  } catch {
    return false;
  }
}

/** The three Standard Webhooks headers for a body signed by the reference implementation. */
export function signatureHeaders(webhook, id, at, signedBody) {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": webhook.sign(id, at, signedBody),
  };
}
