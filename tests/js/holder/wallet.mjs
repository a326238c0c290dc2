// The holder's wallet file: one P-256 key pair and the credentials received
// with it, as JSON that only its owner can read.
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { chmodSync, openSync, readFileSync, renameSync, writeSync, closeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

import { calculateJwkThumbprint } from "jose";

export const WALLET_VERSION = 1;
export const HOLDER_ALG = "ES256";

export class WalletError extends Error {}

/**
 * Read the wallet at `path`, or create an empty one with a new holder key
 * when the file does not exist yet. Nothing is written until `saveWallet`.
 */
export async function openWallet(path) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (error.code !== "ENOENT") {
      throw new WalletError(`wallet file ${path} cannot be read: ${error.message}`);
    }
    return { version: WALLET_VERSION, holderKey: await newHolderKey(), credentials: [] };
  }
  return parseWallet(text, path);
}

export function parseWallet(text, path) {
  let document;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new WalletError(`wallet file ${path} is not valid JSON: ${error.message}`);
  }
  if (document?.version !== WALLET_VERSION) {
    throw new WalletError(
      `wallet file ${path} has version ${JSON.stringify(document?.version)}; ` +
        `this holder reads version ${WALLET_VERSION}, so remove the file to start a new wallet`,
    );
  }
  const key = document.holder_key;
  if (key?.kty !== "EC" || key.crv !== "P-256" || typeof key.d !== "string") {
    throw new WalletError(`wallet file ${path} has no private P-256 key in holder_key`);
  }
  if (!Array.isArray(document.credentials)) {
    throw new WalletError(`wallet file ${path} has no credentials list`);
  }
  return { version: WALLET_VERSION, holderKey: key, credentials: document.credentials };
}

/** Write the wallet to `path` atomically, readable by its owner only (mode 0600). */
export function saveWallet(path, wallet) {
  const document = {
    version: wallet.version,
    holder_key: wallet.holderKey,
    credentials: wallet.credentials,
  };
  const temporary = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  const descriptor = openSync(temporary, "wx", 0o600);
  try {
    writeSync(descriptor, JSON.stringify(document, null, 2) + "\n");
  } finally {
    closeSync(descriptor);
  }
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

export async function newHolderKey() {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = privateKey.export({ format: "jwk" });
  const kid = await calculateJwkThumbprint(publicJwk(jwk));
  return { ...jwk, kid, alg: HOLDER_ALG };
}

/** Return the public members of an EC JWK: `kty`, `crv`, `x`, `y`. */
export function publicJwk(jwk) {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

export function addCredential(wallet, entry) {
  wallet.credentials.push({ id: randomUUID(), received_at: new Date().toISOString(), ...entry });
}
