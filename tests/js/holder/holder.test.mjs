// Unit tests of the independent holder's own glue: the wallet file, the
// command line, the DCQL selection, the SD-JWT steps and the callbacks.
// tests/test_independent_holder.py runs this file and then the whole holder
// against the running API.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { ES256, digest, generateSalt } from "@sd-jwt/crypto-nodejs";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { compactDecrypt, decodeProtectedHeader, exportJWK, generateKeyPair } from "jose";

import { encryptJwe, holderSigner, jwtVerifier } from "./callbacks.mjs";
import { UsageError, checkLoopbackOnly, describeError, parseCommandLine } from "./holder.mjs";
import { checkReceivedCredential, createSdJwtVc, presentCredential } from "./sdjwt.mjs";
import { NoMatchError, presentationFrame, selectPresentations } from "./selection.mjs";
import { WalletError, openWallet, parseWallet, publicJwk, saveWallet } from "./wallet.mjs";

function temporaryFolder() {
  return mkdtempSync(join(tmpdir(), "holder-test-"));
}

const AGE_QUERY = {
  credentials: [
    {
      id: "leeftijd",
      format: "dc+sd-jwt",
      meta: { vct_values: ["urn:stappen:vil:leeftijd"] },
      claims: [
        { id: "ouder-dan-21", path: ["ouder_dan_21"] },
        { id: "aow-leeftijd", path: ["aow_leeftijd_bereikt"] },
        { id: "geboortedatum", path: ["geboortedatum"] },
      ],
      claim_sets: [["ouder-dan-21", "aow-leeftijd"], ["geboortedatum"]],
    },
  ],
};

function ageCredential(name, claims) {
  return { entry: { id: name }, claims: { vct: "urn:stappen:vil:leeftijd", ...claims } };
}

// Wallet file

test("new wallet gets a P-256 key with a thumbprint kid", async () => {
  const wallet = await openWallet(join(temporaryFolder(), "wallet.json"));

  assert.equal(wallet.holderKey.kty, "EC");
  assert.equal(wallet.holderKey.crv, "P-256");
  assert.equal(typeof wallet.holderKey.d, "string");
  assert.match(wallet.holderKey.kid, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(wallet.credentials, []);
});

test("saved wallet is private and reads back", async () => {
  const path = join(temporaryFolder(), "wallet.json");
  const wallet = await openWallet(path);
  wallet.credentials.push({ id: "one", format: "dc+sd-jwt", credential: "x~" });

  saveWallet(path, wallet);
  const reread = await openWallet(path);

  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(reread.holderKey, wallet.holderKey);
  assert.deepEqual(reread.credentials, wallet.credentials);
});

test("wallet of another version is rejected", () => {
  assert.throws(() => parseWallet('{"version": 2}', "w.json"), WalletError);
  assert.throws(() => parseWallet("not json", "w.json"), /not valid JSON/);
  assert.throws(
    () => parseWallet('{"version": 1, "holder_key": {"kty": "EC"}, "credentials": []}', "w.json"),
    /no private P-256 key/,
  );
});

// Command line

test("command line needs a command, URL and wallet", () => {
  assert.throws(() => parseCommandLine([]), UsageError);
  assert.throws(() => parseCommandLine(["receive"]), /needs a URL/);
  assert.throws(() => parseCommandLine(["receive", "openid-credential-offer://?x=1"]), /--wallet/);
  assert.throws(() => parseCommandLine(["fetch", "x", "--wallet", "w"]), /receive, present or decline/);
  assert.throws(() => parseCommandLine(["present", "x", "--wallet", "w", "--tx-code", "1"]), /belong to receive, not present/);
  assert.throws(() => parseCommandLine(["receive", "x", "--wallet", "w", "--bogus"]), UsageError);
  assert.throws(() => parseCommandLine(["decline", "x", "--wallet", "w", "--tx-code", "1"]), /not decline/);
});

test("command line reads decline like present", () => {
  const parsed = parseCommandLine(["decline", "openid4vp://?request_uri=x", "--wallet", "w.json"]);
  assert.equal(parsed.command, "decline");
  assert.equal(parsed.url, "openid4vp://?request_uri=x");
  assert.deepEqual(parsed.certificatePaths, []);
});

test("command line reads receive options", () => {
  const parsed = parseCommandLine([
    "receive", "openid-credential-offer://?credential_offer_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fo",
    "--wallet", "w.json", "--tx-code", "493536", "--allow-http",
  ]);

  assert.equal(parsed.command, "receive");
  assert.equal(parsed.walletPath, "w.json");
  assert.equal(parsed.txCode, "493536");
  assert.equal(parsed.allowHttp, true);
  assert.deepEqual(parsed.certificatePaths, []);
});

test("allow-http accepts loopback hosts only", () => {
  const offer = (uri) => `openid-credential-offer://?credential_offer_uri=${encodeURIComponent(uri)}`;

  checkLoopbackOnly(offer("http://127.0.0.1:5000/o"));
  checkLoopbackOnly(offer("http://localhost/o"));
  checkLoopbackOnly(offer("http://[::1]:8080/o"));
  checkLoopbackOnly(offer("https://api.example/o"));
  assert.throws(() => checkLoopbackOnly(offer("http://api.example/o")), /loopback servers only/);
  assert.throws(() => checkLoopbackOnly(offer("http://10.0.0.1/o")), /loopback servers only/);
});

test("error description includes causes once", () => {
  const inner = new Error("bad port");
  const outer = new Error("fetch failed", { cause: inner });
  const wrapped = new Error("fetch failed bad port", { cause: inner });

  assert.equal(describeError(outer), "fetch failed\ncaused by: bad port");
  assert.equal(describeError(wrapped), "fetch failed bad port");
});

// DCQL selection

test("selection takes the first claim set that matches", () => {
  const walletCredentials = [ageCredential("full", { ouder_dan_21: true, aow_leeftijd_bereikt: false, geboortedatum: "1988-05-17" })];

  const selection = selectPresentations(AGE_QUERY, walletCredentials);

  assert.deepEqual(Object.keys(selection), ["leeftijd"]);
  assert.equal(selection.leeftijd.length, 1);
  assert.equal(selection.leeftijd[0].entry.id, "full");
  assert.deepEqual(selection.leeftijd[0].claims, { ouder_dan_21: true, aow_leeftijd_bereikt: false });
  assert.deepEqual(selection.leeftijd[0].frame, { ouder_dan_21: true, aow_leeftijd_bereikt: true });
});

test("selection falls back to a later claim set", () => {
  const walletCredentials = [ageCredential("birth-date-only", { geboortedatum: "1988-05-17" })];

  const selection = selectPresentations(AGE_QUERY, walletCredentials);

  assert.deepEqual(selection.leeftijd[0].frame, { geboortedatum: true });
});

test("selection prefers the first credential given", () => {
  const walletCredentials = [
    ageCredential("newest", { geboortedatum: "1990-01-01" }),
    ageCredential("older", { geboortedatum: "1980-01-01" }),
  ];

  const selection = selectPresentations(AGE_QUERY, walletCredentials);

  assert.equal(selection.leeftijd[0].entry.id, "newest");
});

test("selection without a matching credential names the query", () => {
  const walletCredentials = [{ entry: { id: "income" }, claims: { vct: "urn:stappen:vil:inkomen", netto_per_maand: 1290 } }];

  assert.throws(() => selectPresentations(AGE_QUERY, walletCredentials), NoMatchError);
  assert.throws(() => selectPresentations(AGE_QUERY, walletCredentials), /credential queries leeftijd/);
});

test("selection answers the satisfiable option of credential sets", () => {
  const query = {
    credentials: [
      { id: "income", format: "dc+sd-jwt", meta: { vct_values: ["urn:stappen:vil:inkomen"] } },
      { id: "age", format: "dc+sd-jwt", meta: { vct_values: ["urn:stappen:vil:leeftijd"] } },
    ],
    credential_sets: [{ options: [["age"], ["income"]] }],
  };
  const walletCredentials = [{ entry: { id: "income" }, claims: { vct: "urn:stappen:vil:inkomen", netto_per_maand: 1290 } }];

  const selection = selectPresentations(query, walletCredentials);

  assert.deepEqual(Object.keys(selection), ["income"]);
});

test("presentation frame covers nested objects and arrays", () => {
  const frame = presentationFrame({
    address: { street: "Markt 1", city: "Utrecht" },
    nationalities: ["NL", "BE"],
    empty: {},
    flag: false,
  });

  assert.deepEqual(frame, {
    address: { street: true, city: true },
    nationalities: { 0: true, 1: true },
    empty: true,
    flag: true,
  });
});

// SD-JWT VC

async function issuerFixture(holderKey) {
  const { publicKey, privateKey } = await ES256.generateKeyPair();
  const issuer = new SDJwtVcInstance({
    hasher: digest,
    saltGenerator: generateSalt,
    signer: await ES256.getSigner(privateKey),
    signAlg: "ES256",
    verifier: await ES256.getVerifier(publicKey),
    kbVerifier: async (data, signature, payload) => (await ES256.getVerifier(payload.cnf.jwk))(data, signature),
  });
  const credential = await issuer.issue(
    {
      iss: "https://issuer.example",
      iat: Math.floor(Date.now() / 1000),
      vct: "urn:stappen:vil:leeftijd",
      cnf: { jwk: publicJwk(holderKey) },
      ouder_dan_21: true,
      geboortedatum: "1988-05-17",
    },
    { _sd: ["ouder_dan_21", "geboortedatum"] },
  );
  return { issuer, publicKey, credential };
}

test("received credential is verified against the issuer key", async () => {
  const wallet = await openWallet(join(temporaryFolder(), "wallet.json"));
  const { publicKey, credential } = await issuerFixture(wallet.holderKey);
  const sdJwtVc = await createSdJwtVc(wallet.holderKey, [publicKey]);

  const claims = await checkReceivedCredential(sdJwtVc, credential, {
    holderPublicJwk: publicJwk(wallet.holderKey),
    vct: "urn:stappen:vil:leeftijd",
    verify: true,
  });

  assert.equal(claims.ouder_dan_21, true);
  assert.equal(claims.geboortedatum, "1988-05-17");
});

test("received credential for another key is rejected", async () => {
  const wallet = await openWallet(join(temporaryFolder(), "wallet.json"));
  const other = await openWallet(join(temporaryFolder(), "other.json"));
  const { publicKey, credential } = await issuerFixture(other.holderKey);
  const sdJwtVc = await createSdJwtVc(wallet.holderKey, [publicKey]);

  await assert.rejects(
    checkReceivedCredential(sdJwtVc, credential, { holderPublicJwk: publicJwk(wallet.holderKey), verify: true }),
    /cnf.jwk is not the holder's key/,
  );
});

test("received credential with a wrong issuer key is rejected", async () => {
  const wallet = await openWallet(join(temporaryFolder(), "wallet.json"));
  const { credential } = await issuerFixture(wallet.holderKey);
  const stranger = await ES256.generateKeyPair();
  const sdJwtVc = await createSdJwtVc(wallet.holderKey, [stranger.publicKey]);

  await assert.rejects(
    checkReceivedCredential(sdJwtVc, credential, { holderPublicJwk: publicJwk(wallet.holderKey), verify: true }),
    /Invalid JWT Signature/,
  );
});

test("presentation discloses the frame and binds nonce and aud", async () => {
  const wallet = await openWallet(join(temporaryFolder(), "wallet.json"));
  const { issuer, credential } = await issuerFixture(wallet.holderKey);
  const sdJwtVc = await createSdJwtVc(wallet.holderKey);

  const presentation = await presentCredential(sdJwtVc, credential, { ouder_dan_21: true }, {
    aud: "x509_hash:abc",
    nonce: "n-0S6",
  });
  const verified = await issuer.verify(presentation, { keyBindingNonce: "n-0S6" });

  assert.equal(verified.payload.ouder_dan_21, true);
  assert.equal("geboortedatum" in verified.payload, false);
  assert.equal(verified.kb.payload.aud, "x509_hash:abc");
  assert.equal(verified.kb.payload.nonce, "n-0S6");
  assert.equal(verified.kb.header.typ, "kb+jwt");
});

// Callbacks

test("signer refuses a key other than the holder's", async () => {
  const wallet = await openWallet(join(temporaryFolder(), "wallet.json"));
  const other = await openWallet(join(temporaryFolder(), "other.json"));
  const sign = holderSigner(wallet.holderKey);
  const jwt = { header: { alg: "ES256", typ: "openid4vci-proof+jwt" }, payload: { nonce: "n" } };

  await assert.rejects(sign({ method: "jwk", alg: "ES256", publicJwk: publicJwk(other.holderKey) }, jwt), /not the holder's key/);
  await assert.rejects(sign({ method: "did", alg: "ES256", didUrl: "did:example:1" }, jwt), /signs with its JWK only/);
});

test("signed JWT verifies with the holder's public key", async () => {
  const wallet = await openWallet(join(temporaryFolder(), "wallet.json"));
  const holderPublic = publicJwk(wallet.holderKey);
  const signer = { method: "jwk", alg: "ES256", publicJwk: holderPublic };
  const { jwt } = await holderSigner(wallet.holderKey)(signer, {
    header: { alg: "ES256", typ: "openid4vci-proof+jwt", jwk: holderPublic },
    payload: { aud: "https://issuer.example", nonce: "c-1" },
  });

  const result = await jwtVerifier([])(signer, { compact: jwt });
  const tampered = await jwtVerifier([])(signer, { compact: `${jwt.slice(0, -4)}AAAA` });

  assert.equal(result.verified, true);
  assert.equal(tampered.verified, false);
});

test("response encryption echoes the verifier key's kid", async () => {
  const { publicKey, privateKey } = await generateKeyPair("ECDH-ES", { crv: "P-256" });
  const verifierJwk = { ...(await exportJWK(publicKey)), kid: "session-key", alg: "ECDH-ES", use: "enc" };

  const { jwe } = await encryptJwe(
    { method: "jwk", publicJwk: verifierJwk, alg: "ECDH-ES", enc: "A128GCM", apv: "bi0w" },
    JSON.stringify({ vp_token: { leeftijd: ["x~"] }, state: "s-1" }),
  );
  const header = decodeProtectedHeader(jwe);
  const { plaintext } = await compactDecrypt(jwe, privateKey);

  assert.equal(header.kid, "session-key");
  assert.equal(header.alg, "ECDH-ES");
  assert.equal(header.enc, "A128GCM");
  assert.deepEqual(JSON.parse(new TextDecoder().decode(plaintext)), { vp_token: { leeftijd: ["x~"] }, state: "s-1" });
});

test("wallet file from disk keeps unknown credential fields", async () => {
  const path = join(temporaryFolder(), "wallet.json");
  const wallet = await openWallet(path);
  saveWallet(path, wallet);
  const document = JSON.parse(readFileSync(path, "utf8"));
  document.credentials.push({ id: "c", format: "dc+sd-jwt", credential: "x~", note: "kept" });
  writeFileSync(path, JSON.stringify(document));

  const reread = await openWallet(path);

  assert.equal(reread.credentials[0].note, "kept");
});
