#!/usr/bin/env node
// An independent SD-JWT VC holder for testing Stappen's wallet API: it
// receives credentials over OpenID4VCI 1.0 and presents them over OpenID4VP
// 1.0 with the @openid4vc and @sd-jwt npm packages, not with Stappen's code.
//
//   node tests/js/holder/holder.mjs receive <credential_offer_url> --wallet FILE
//       [--tx-code CODE] [--issuer-jwks FILE] [--allow-http]
//   node tests/js/holder/holder.mjs present <openid4vp_url> --wallet FILE
//       [--trust-certificate FILE ...] [--allow-http]
//   node tests/js/holder/holder.mjs decline <openid4vp_url> --wallet FILE
//       [--trust-certificate FILE ...] [--allow-http]
//
// It prints one JSON line, {"ok": true, ...} or {"ok": false, "error": ...},
// and exits with 0 on success, 1 when the exchange fails and 2 on bad usage.
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import { setGlobalConfig } from "@openid4vc/oauth2";

import { declineRequest, presentCredentials } from "./present.mjs";
import { receiveCredentials } from "./receive.mjs";
import { openWallet, saveWallet } from "./wallet.mjs";

const USAGE = `usage:
  holder.mjs receive <credential_offer_url> --wallet FILE [--tx-code CODE]
      [--issuer-jwks FILE] [--allow-http]
  holder.mjs present <openid4vp_url> --wallet FILE [--trust-certificate FILE ...]
      [--allow-http]
  holder.mjs decline <openid4vp_url> --wallet FILE [--trust-certificate FILE ...]
      [--allow-http]

options:
  --wallet FILE             the wallet file: holder key and credentials (JSON,
                            created with mode 0600 when missing)
  --tx-code CODE            the transaction code the credential offer asks for
  --issuer-jwks FILE        a JWKS of issuer keys; received credentials and their
                            status list entries are verified against it
  --trust-certificate FILE  a PEM certificate the verifier's x5c chain must reach;
                            repeat for more than one
  --allow-http              let the libraries use http:// URLs, for servers on a
                            loopback address only`;

const OPTIONS = {
  wallet: { type: "string" },
  "tx-code": { type: "string" },
  "issuer-jwks": { type: "string" },
  "trust-certificate": { type: "string", multiple: true },
  "allow-http": { type: "boolean" },
  help: { type: "boolean" },
};

const COMMANDS = ["receive", "present", "decline"];

const LOOPBACK_HOSTS = new Set(["localhost", "[::1]"]);

export class UsageError extends Error {}

/** Run one command and return `{ exitCode, line }`, where `line` is the JSON to print. */
export async function run(argv) {
  const command = argv.find((argument) => COMMANDS.includes(argument)) ?? null;
  try {
    const parsed = parseCommandLine(argv);
    const result = await runCommand(parsed);
    return { exitCode: 0, line: { ok: true, command, ...result } };
  } catch (error) {
    const exitCode = error instanceof UsageError ? 2 : 1;
    return { exitCode, line: { ok: false, command, error: describeError(error) } };
  }
}

export function parseCommandLine(argv) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${error.message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) throw new UsageError(USAGE);

  const [command, url, ...extra] = positionals;
  if (!COMMANDS.includes(command)) {
    throw new UsageError(
      `the command must be receive, present or decline, got ${JSON.stringify(command)}\n${USAGE}`,
    );
  }
  if (!url) throw new UsageError(`${command} needs a URL\n${USAGE}`);
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}\n${USAGE}`);
  if (!values.wallet) throw new UsageError(`${command} needs --wallet FILE\n${USAGE}`);
  if (command !== "receive" && (values["tx-code"] || values["issuer-jwks"])) {
    throw new UsageError(`--tx-code and --issuer-jwks belong to receive, not ${command}\n${USAGE}`);
  }
  if (command === "receive" && values["trust-certificate"]) {
    throw new UsageError(`--trust-certificate belongs to present, not receive\n${USAGE}`);
  }
  if (values["allow-http"]) checkLoopbackOnly(url);

  return {
    command,
    url,
    walletPath: values.wallet,
    txCode: values["tx-code"],
    issuerJwksPath: values["issuer-jwks"],
    certificatePaths: values["trust-certificate"] ?? [],
    allowHttp: Boolean(values["allow-http"]),
  };
}

/**
 * Reject --allow-http when the wallet URL, or a URL in its query such as
 * `credential_offer_uri` or `request_uri`, is http:// on a host that is not
 * a loopback address.
 */
export function checkLoopbackOnly(walletUrl) {
  const candidates = [walletUrl];
  try {
    for (const value of new URL(walletUrl).searchParams.values()) candidates.push(value);
  } catch {
    throw new UsageError(`${walletUrl} is not a URL`);
  }
  for (const candidate of candidates) {
    if (!candidate.startsWith("http://")) continue;
    const host = new URL(candidate).hostname;
    if (!LOOPBACK_HOSTS.has(host) && !host.startsWith("127.")) {
      throw new UsageError(`--allow-http is for loopback servers only, but ${candidate} is on ${host}`);
    }
  }
}

async function runCommand(options) {
  if (options.allowHttp) setGlobalConfig({ allowInsecureUrls: true });
  const wallet = await openWallet(options.walletPath);

  if (options.command === "receive") {
    const issuerJwks = options.issuerJwksPath ? readIssuerJwks(options.issuerJwksPath) : [];
    const result = await receiveCredentials(wallet, options.url, { txCode: options.txCode, issuerJwks });
    saveWallet(options.walletPath, wallet);
    return result;
  }

  const trustedCertificates = options.certificatePaths.map(readCertificate);
  if (options.command === "decline") {
    return declineRequest(wallet, options.url, { trustedCertificates });
  }
  return presentCredentials(wallet, options.url, { trustedCertificates });
}

function readIssuerJwks(path) {
  let document;
  try {
    document = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`--issuer-jwks ${path} cannot be read as JSON: ${error.message}`);
  }
  if (!Array.isArray(document?.keys) || document.keys.length === 0) {
    throw new UsageError(`--issuer-jwks ${path} must be a JWKS: {"keys": [<public JWK>, ...]}`);
  }
  return document.keys;
}

function readCertificate(path) {
  try {
    return new X509Certificate(readFileSync(path));
  } catch (error) {
    throw new UsageError(`--trust-certificate ${path} is not a readable PEM or DER certificate: ${error.message}`);
  }
}

/** Return an error's message followed by the messages of its causes that it does not already contain. */
export function describeError(error) {
  let text = error instanceof Error ? error.message : String(error);
  let cause = error instanceof Error ? error.cause : undefined;
  while (cause instanceof Error) {
    if (!text.includes(cause.message)) text += `\ncaused by: ${cause.message}`;
    cause = cause.cause;
  }
  return text;
}

async function main() {
  const { exitCode, line } = await run(process.argv.slice(2));
  process.stdout.write(`${JSON.stringify(line)}\n`);
  if (!line.ok) process.stderr.write(`holder: ${line.error}\n`);
  process.exitCode = exitCode;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
