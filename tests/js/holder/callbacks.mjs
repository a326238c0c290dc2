// The crypto and HTTP callbacks that the @openid4vc libraries ask the wallet
// for. The libraries parse and check the protocol messages; these callbacks
// only hash, sign, verify, encrypt and fetch, with node:crypto and jose.
import { X509Certificate, createHash, randomBytes } from "node:crypto";

import {
  CompactEncrypt,
  CompactSign,
  base64url,
  calculateJwkThumbprint,
  compactVerify,
  exportJWK,
  importJWK,
} from "jose";

import { HOLDER_ALG, publicJwk } from "./wallet.mjs";

export const FETCH_TIMEOUT_MS = 10_000;

/** Signature algorithms the holder accepts on request objects and credentials. */
export const ACCEPTED_SIGNING_ALGS = ["ES256", "ES384", "ES512", "EdDSA"];

/** JWE algorithms the holder can encrypt a `direct_post.jwt` response with. */
export const RESPONSE_ENCRYPTION = {
  authorization_signing_alg_values_supported: [],
  authorization_encryption_alg_values_supported: ["ECDH-ES"],
  authorization_encryption_enc_values_supported: ["A128GCM", "A256GCM"],
};

const HASH_NAMES = { "sha-256": "sha256", "sha-384": "sha384", "sha-512": "sha512" };

export class UntrustedCertificateError extends Error {}

export function hash(data, alg) {
  const name = HASH_NAMES[alg];
  if (!name) throw new Error(`hash algorithm ${alg} is not supported; use sha-256`);
  return new Uint8Array(createHash(name).update(data).digest());
}

export function generateRandom(byteLength) {
  return new Uint8Array(randomBytes(byteLength));
}

/** Call `fetch` with a timeout, so a server that never responds fails the command. */
export function fetchWithTimeout(input, init = {}) {
  return fetch(input, { ...init, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
}

/**
 * Return a `signJwt` callback that signs with the holder's private key only.
 * The libraries build the header and payload. A signer that names another
 * key is rejected, so no library call can make the holder sign for it.
 */
export function holderSigner(holderKey) {
  const holderPublic = publicJwk(holderKey);
  return async (signer, { header, payload }) => {
    if (signer.method !== "jwk") {
      throw new Error(`the holder signs with its JWK only, not with signer method ${signer.method}`);
    }
    const requested = await calculateJwkThumbprint(publicJwk(signer.publicJwk));
    if (requested !== (await calculateJwkThumbprint(holderPublic))) {
      throw new Error("the signer's publicJwk is not the holder's key");
    }
    if (signer.alg !== HOLDER_ALG) {
      throw new Error(`the holder key signs with ${HOLDER_ALG}, not ${signer.alg}`);
    }
    const key = await importJWK(holderKey, HOLDER_ALG);
    const jwt = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader(header)
      .sign(key);
    return { jwt, signerJwk: holderPublic };
  };
}

/**
 * Return a `verifyJwt` callback. An `x5c` signer is accepted only when its
 * chain is valid now and reaches one of `trustedCertificates`. A `jwk`
 * signer is checked against the key it names. Other signer methods, such as
 * DIDs and OpenID Federation, are not supported and fail verification.
 */
export function jwtVerifier(trustedCertificates, { now = () => new Date() } = {}) {
  return async (signer, { compact }) => {
    let key;
    if (signer.method === "x5c") {
      const leaf = checkCertificateChain(signer.x5c, trustedCertificates, now());
      key = leaf.publicKey;
    } else if (signer.method === "jwk") {
      key = await importJWK(signer.publicJwk, signer.alg);
    } else {
      return { verified: false };
    }
    try {
      await compactVerify(compact, key, { algorithms: ACCEPTED_SIGNING_ALGS });
    } catch {
      return { verified: false };
    }
    const signerJwk = signer.method === "jwk" ? signer.publicJwk : await exportJWK(key);
    return { verified: true, signerJwk };
  };
}

/**
 * Check an `x5c` chain (base64 DER, leaf first) and return the leaf certificate.
 *
 * Every certificate must be valid at `moment` and signed by the next one.
 * The chain is trusted when one of its certificates is a trusted certificate
 * or the last one is issued by a trusted certificate, so a pinned
 * self-signed verifier certificate is trusted on its own. Throws
 * `UntrustedCertificateError` naming the leaf's subject otherwise.
 */
export function checkCertificateChain(x5c, trustedCertificates, moment) {
  if (!Array.isArray(x5c) || x5c.length === 0) {
    throw new UntrustedCertificateError("the x5c header has no certificates");
  }
  const chain = x5c.map((der) => new X509Certificate(Buffer.from(der, "base64")));
  const leaf = chain[0];

  for (const certificate of chain) {
    const from = new Date(certificate.validFrom);
    const to = new Date(certificate.validTo);
    if (moment < from || moment > to) {
      throw new UntrustedCertificateError(
        `certificate ${certificate.subject} is valid from ${from.toISOString()} ` +
          `to ${to.toISOString()}, not at ${moment.toISOString()}`,
      );
    }
  }
  for (let index = 0; index + 1 < chain.length; index += 1) {
    const issuer = chain[index + 1];
    if (!chain[index].checkIssued(issuer) || !chain[index].verify(issuer.publicKey)) {
      throw new UntrustedCertificateError(
        `certificate ${chain[index].subject} in x5c is not signed by the next one, ${issuer.subject}`,
      );
    }
  }

  const last = chain[chain.length - 1];
  const anchored =
    chain.some((certificate) => trustedCertificates.some((trusted) => trusted.raw.equals(certificate.raw))) ||
    trustedCertificates.some((trusted) => last.checkIssued(trusted) && last.verify(trusted.publicKey));
  if (!anchored) {
    throw new UntrustedCertificateError(
      `the verifier certificate ${leaf.subject} (SHA-256 ${x509Hash(leaf)}) is not trusted; ` +
        "pass it, or a certificate that issued it, with --trust-certificate",
    );
  }
  return leaf;
}

/** Return the base64url SHA-256 of a certificate's DER, as in an `x509_hash:` client id. */
export function x509Hash(certificate) {
  return base64url.encode(createHash("sha256").update(certificate.raw).digest());
}

/** Read the DNS and URI subject alternative names, for `x509_san_*` client ids. */
export function getX509CertificateMetadata(certificate) {
  const parsed = new X509Certificate(Buffer.from(certificate, "base64"));
  const names = (parsed.subjectAltName ?? "").split(",").map((name) => name.trim());
  return {
    sanDnsNames: names.filter((name) => name.startsWith("DNS:")).map((name) => name.slice(4)),
    sanUriNames: names.filter((name) => name.startsWith("URI:")).map((name) => name.slice(4)),
  };
}

/**
 * Encrypt an authorization response to the verifier's key, as a compact JWE.
 * The library passes `apu` and `apv` base64url-encoded. The header repeats
 * the `kid` of the verifier's key, as OpenID4VP 1.0 Section 8.3 (Encrypted Responses) requires.
 */
export async function encryptJwe(encryptor, data) {
  if (encryptor.method !== "jwk") {
    throw new Error(`response encryption needs a JWK, not signer method ${encryptor.method}`);
  }
  const header = { alg: encryptor.alg, enc: encryptor.enc };
  if (encryptor.publicJwk.kid) header.kid = encryptor.publicJwk.kid;

  const parameters = {};
  if (encryptor.apu) parameters.apu = base64url.decode(encryptor.apu);
  if (encryptor.apv) parameters.apv = base64url.decode(encryptor.apv);

  const key = await importJWK(encryptor.publicJwk, encryptor.alg);
  const jwe = await new CompactEncrypt(new TextEncoder().encode(data))
    .setProtectedHeader(header)
    .setKeyManagementParameters(parameters)
    .encrypt(key);
  return { jwe, encryptionJwk: encryptor.publicJwk };
}

/** Report every decryption as failed, because the holder expects no encrypted messages. */
export function decryptJwe() {
  return { decrypted: false };
}
