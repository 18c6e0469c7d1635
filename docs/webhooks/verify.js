#!/usr/bin/env node
// Verify a Cartwheel webhook delivery (Node 20, standard library only: `crypto`, `fs`). CommonJS.
//
// Copy `verify()` (with `WebhookVerificationError` and the `crypto` require) into your receiver and call it with
// the endpoint's secret (`whsec_...`), the request headers and the RAW request body as a Buffer -- exactly as
// received, before any JSON parsing (re-serialised JSON will not match the signatures):
//
//   const { verify, WebhookVerificationError } = require("./verify.js");
//   // Express, for example: express.raw keeps the body as a Buffer.
//   app.post("/hooks/cartwheel", express.raw({ type: "application/json" }), (req, res) => {
//     try {
//       verify(process.env.CARTWHEEL_WEBHOOK_SECRET, req.headers, req.body);
//     } catch (error) {
//       if (error instanceof WebhookVerificationError) return res.status(400).send(error.message);
//       throw error;
//     }
//     const event = JSON.parse(req.body);
//     // Drop duplicates on req.headers["webhook-id"] (delivery is at least once), then handle the event.
//     res.sendStatus(204);
//   });
//
// It throws WebhookVerificationError unless all of these hold:
//   * `webhook-timestamp` is within `tolerance` seconds (default 300) of now, in either direction;
//   * one of the space-separated `v1,<base64>` entries of `webhook-signature` is the HMAC-SHA256, keyed with the
//     base64-decoded part of the secret after `whsec_`, of `{webhook-id}.{webhook-timestamp}.{raw body}`
//     (Standard Webhooks);
//   * `x-cartwheel-signature` is the lowercase hex HMAC-SHA256 of the raw body keyed with the whole secret text
//     (`whsec_` included).
// Every comparison is constant-time.
//
// Note: during the 24 h after a secret rotation both headers carry a signature for each secret (space-separated),
// so a receiver still holding the old secret keeps verifying until it switches.
//
// Command line (used by the test suite):
//
//   node docs/webhooks/verify.js SECRET HEADERS_JSON_FILE BODY_FILE
//
// HEADERS_JSON_FILE holds a JSON object of header names to string values; BODY_FILE the raw body bytes. Prints
// `ok` and exits 0 when the delivery verifies; otherwise prints the reason to stderr and exits 1. The tolerance
// comes from the environment variable VERIFY_TOLERANCE_SECONDS (default 300).

"use strict";

const crypto = require("crypto");

const DEFAULT_TOLERANCE_SECONDS = 300;

/** The delivery is not authentic or not fresh; answer 400 and do not act on it. */
class WebhookVerificationError extends Error {}

/** Constant-time equality of two strings (false, without comparing, when their byte lengths differ). */
function safeEqual(a, b) {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/**
 * Throws WebhookVerificationError unless `body` (a Buffer) with `headers` was signed with `secret` just now.
 * `headers`: an object of header names to strings (Node's `req.headers`); names are matched case-insensitively.
 */
function verify(secret, headers, body, tolerance = DEFAULT_TOLERANCE_SECONDS, now = undefined) {
  if (!Buffer.isBuffer(body)) {
    throw new TypeError("pass the raw body as a Buffer, exactly as received");
  }
  const lowered = {};
  for (const [name, value] of Object.entries(headers)) lowered[name.toLowerCase()] = value;
  const header = (name) => {
    const value = lowered[name];
    if (typeof value !== "string" || value === "") {
      throw new WebhookVerificationError(`missing header ${name}`);
    }
    return value;
  };
  const msgId = header("webhook-id");
  const timestamp = header("webhook-timestamp");
  const signatures = header("webhook-signature");
  const simple = header("x-cartwheel-signature");

  // Freshness: refuses replays of old deliveries.
  if (!/^[0-9]{1,15}$/.test(timestamp)) {
    throw new WebhookVerificationError(`webhook-timestamp ${JSON.stringify(timestamp)} is not Unix seconds`);
  }
  const nowSeconds = now === undefined ? Math.floor(Date.now() / 1000) : Math.floor(now);
  const skew = nowSeconds - Number(timestamp);
  if (Math.abs(skew) > tolerance) {
    const when = skew > 0 ? "old" : "far in the future";
    throw new WebhookVerificationError(
      `webhook-timestamp is ${Math.abs(skew)} s ${when}: outside the ${tolerance} s tolerance`,
    );
  }

  // Standard Webhooks: the key is the base64-decoded part after `whsec_`.
  const encoded = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret;
  // Buffer.from(..., "base64") never fails, so check the text first (padded standard base64, as Cartwheel writes).
  if (encoded === "" || encoded.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new WebhookVerificationError("the secret is not `whsec_` followed by base64");
  }
  const key = Buffer.from(encoded, "base64");
  const expected = crypto
    .createHmac("sha256", key)
    .update(`${msgId}.${timestamp}.`)
    .update(body)
    .digest("base64");
  let matched = false;
  for (const entry of signatures.split(" ")) {
    const comma = entry.indexOf(",");
    const version = comma < 0 ? entry : entry.slice(0, comma);
    const signature = comma < 0 ? "" : entry.slice(comma + 1);
    // No early exit: the time taken does not depend on which entry matched.
    if (version === "v1" && safeEqual(signature, expected)) matched = true;
  }
  if (!matched) {
    throw new WebhookVerificationError("no v1 signature in webhook-signature matches");
  }

  // x-cartwheel-signature: hex HMAC of the raw body keyed with the whole secret text.
    // During a rotation it lists one signature per secret, space-separated.
  const expectedHex = crypto.createHmac("sha256", Buffer.from(secret, "utf8")).update(body).digest("hex");
  let simpleMatched = false;
  for (const candidate of simple.trim().split(/\s+/)) {
    if (safeEqual(candidate.toLowerCase(), expectedHex)) {
      simpleMatched = true;
    }
  }
  if (!simpleMatched) {
    throw new WebhookVerificationError("x-cartwheel-signature does not match");
  }
}

function main(argv) {
  const fs = require("fs");
  if (argv.length !== 3) {
    process.stderr.write("usage: node verify.js SECRET HEADERS_JSON_FILE BODY_FILE\n");
    return 1;
  }
  const [secret, headersFile, bodyFile] = argv;
  const toleranceText = process.env.VERIFY_TOLERANCE_SECONDS ?? String(DEFAULT_TOLERANCE_SECONDS);
  if (!/^\s*[0-9]+\s*$/.test(toleranceText)) {
    process.stderr.write("VERIFY_TOLERANCE_SECONDS must be a whole number of seconds >= 0\n");
    return 1;
  }
  const tolerance = Number(toleranceText);
  let headers;
  let body;
  try {
    headers = JSON.parse(fs.readFileSync(headersFile, "utf8"));
    body = fs.readFileSync(bodyFile);
  } catch (error) {
    process.stderr.write(`cannot read the input: ${error.message}\n`);
    return 1;
  }
  if (headers === null || typeof headers !== "object" || Array.isArray(headers)) {
    process.stderr.write("HEADERS_JSON_FILE must hold a JSON object\n");
    return 1;
  }
  try {
    verify(secret, headers, body, tolerance);
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  process.stdout.write("ok\n");
  return 0;
}

module.exports = { verify, WebhookVerificationError };

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
