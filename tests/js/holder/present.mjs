// Presenting SD-JWT VCs for an OpenID4VP 1.0 authorization request, driven
// by @openid4vc/openid4vp; `dcql` picks the credentials and claims.
import { Openid4vpClient } from "@openid4vc/openid4vp";

import {
  RESPONSE_ENCRYPTION,
  decryptJwe,
  encryptJwe,
  fetchWithTimeout,
  getX509CertificateMetadata,
  hash,
  holderSigner,
  jwtVerifier,
} from "./callbacks.mjs";
import { subjectClaims } from "./receive.mjs";
import { createSdJwtVc, disclosedClaims, presentCredential } from "./sdjwt.mjs";
import { selectPresentations } from "./selection.mjs";

const RESPONSE_MODES = ["direct_post", "direct_post.jwt"];

/**
 * Respond to the authorization request at `requestUrl` with credentials
 * from `wallet` and return a summary: the verifier's client_id, what each
 * presentation disclosed and the body of the verifier's response.
 *
 * A signed request is accepted only when its `x5c` chain reaches one of
 * `trustedCertificates` (node:crypto `X509Certificate` objects).
 */
export async function presentCredentials(wallet, requestUrl, { trustedCertificates }) {
  const { client, resolved, request } = await resolveRequest(wallet, requestUrl, trustedCertificates);
  if (!resolved.dcql) {
    throw new Error("the request has no dcql_query; this holder does not support Presentation Exchange");
  }

  const sdJwtVc = await createSdJwtVc(wallet.holderKey);
  // Newest first, so that a credential received again replaces the older one.
  const walletCredentials = [];
  for (const entry of wallet.credentials.filter((candidate) => candidate.format === "dc+sd-jwt").reverse()) {
    walletCredentials.push({ entry, claims: await sdJwtVc.getClaims(entry.credential) });
  }
  const selection = selectPresentations(resolved.dcql.query, walletCredentials);

  // The key binding JWT's aud is the Client Identifier with its prefix, such
  // as x509_hash:..., as the SD-JWT VC "Presentation Response" rules in
  // OpenID4VP 1.0 Appendix B ask. The library calls it the effective id.
  const aud = resolved.client.effective;
  const vpToken = {};
  const presented = {};
  for (const [queryId, choices] of Object.entries(selection)) {
    vpToken[queryId] = [];
    presented[queryId] = [];
    for (const { entry, frame } of choices) {
      const presentation = await presentCredential(sdJwtVc, entry.credential, frame, {
        aud,
        nonce: request.nonce,
      });
      vpToken[queryId].push(presentation);
      const claims = await disclosedClaims(sdJwtVc, presentation);
      presented[queryId].push({ vct: claims.vct, claims: subjectClaims(claims) });
    }
  }

  const response = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: { vp_token: vpToken },
    jarm: request.response_mode === "direct_post.jwt"
      ? { encryption: {}, serverMetadata: RESPONSE_ENCRYPTION }
      : undefined,
  });
  const submitted = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: response.authorizationResponsePayload,
    jarm: response.jarm ? { responseJwt: response.jarm.responseJwt } : undefined,
  });

  const verifierResponse = await readVerifierResponse(submitted.response);
  return {
    client_id: request.client_id,
    client_id_prefix: resolved.client.prefix,
    response_mode: request.response_mode,
    presented,
    verifier_response: verifierResponse,
  };
}

/**
 * Resolve the signed authorization request at `requestUrl` with the
 * library, which checks its `x5c` chain against `trustedCertificates`, and
 * return the client, the resolved request and its payload.
 */
async function resolveRequest(wallet, requestUrl, trustedCertificates) {
  const client = new Openid4vpClient({
    callbacks: {
      hash,
      signJwt: holderSigner(wallet.holderKey),
      verifyJwt: jwtVerifier(trustedCertificates),
      encryptJwe,
      decryptJwe,
      getX509CertificateMetadata,
      fetch: fetchWithTimeout,
    },
  });

  const parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest: requestUrl });
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({
    authorizationRequestPayload: parsed.params,
  });
  const request = resolved.authorizationRequestPayload;
  if (!RESPONSE_MODES.includes(request.response_mode)) {
    throw new Error(
      `the request asks for response_mode ${JSON.stringify(request.response_mode)}; ` +
        `this holder answers ${RESPONSE_MODES.join(" or ")} only`,
    );
  }
  return { client, resolved, request };
}

/**
 * Decline the authorization request at `requestUrl`: post the OpenID4VP
 * error response `access_denied` with the request's `state` to its
 * response_uri, and return the verifier's JSON response. The library builds
 * only responses that carry a vp_token, so the form post is written here.
 */
export async function declineRequest(wallet, requestUrl, { trustedCertificates }) {
  const { request } = await resolveRequest(wallet, requestUrl, trustedCertificates);
  const form = new URLSearchParams({
    error: "access_denied",
    error_description: "the holder declined to present credentials",
    state: request.state,
  });
  const response = await fetchWithTimeout(request.response_uri, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form.toString(),
  });
  return {
    client_id: request.client_id,
    response_mode: request.response_mode,
    verifier_response: await readVerifierResponse(response),
  };
}

/**
 * Return the JSON object that the response endpoint sent back. OpenID4VP 1.0
 * Section 8.2 (Response Mode "direct_post") requires status 200 and a JSON
 * object, so any other response fails the command with its status and body.
 */
async function readVerifierResponse(response) {
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`the verifier rejected the authorization response with HTTP ${response.status}: ${text}`);
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`the verifier responded with HTTP 200 and a body that is not JSON: ${text}`);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new Error(`the verifier responded with HTTP 200 and JSON that is not an object: ${text}`);
  }
  return body;
}
