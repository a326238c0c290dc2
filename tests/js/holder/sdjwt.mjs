// SD-JWT VC handling through @sd-jwt/sd-jwt-vc: checking a received
// credential and presenting it with a key binding JWT.
import { ES256, digest, generateSalt } from "@sd-jwt/crypto-nodejs";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";

import { HOLDER_ALG } from "./wallet.mjs";

/** Seconds of clock difference accepted on `iat`, `nbf` and `exp`. */
export const CLOCK_SKEW_SECONDS = 30;

/**
 * Create an SD-JWT VC instance for the holder.
 *
 * `issuerJwks` are the public JWKs the holder trusts for issuer signatures
 * and for the status list tokens that credentials refer to. Without them the
 * instance can decode and present credentials but not verify them.
 */
export async function createSdJwtVc(holderKey, issuerJwks = []) {
  const verifiers = await Promise.all(issuerJwks.map((jwk) => ES256.getVerifier(jwk)));
  return new SDJwtVcInstance({
    hasher: digest,
    hashAlg: "sha-256",
    saltGenerator: generateSalt,
    kbSigner: await ES256.getSigner(holderKey),
    kbSignAlg: HOLDER_ALG,
    verifier: verifiers.length > 0 ? anyVerifier(verifiers) : undefined,
  });
}

/** Accept a signature that one of `verifiers` accepts. */
function anyVerifier(verifiers) {
  return async (data, signature) => {
    for (const verify of verifiers) {
      if (await verify(data, signature)) return true;
    }
    return false;
  };
}

/**
 * Check a credential the issuer just sent and return its claims.
 *
 * The credential must be a `dc+sd-jwt` bound to `holderPublicJwk` by
 * `cnf.jwk`, with the expected `vct` when one is given. With trusted issuer
 * keys the issuer signature, the times and the status list entry are
 * verified by `SDJwtVcInstance.verify`; without them only the structure is.
 */
export async function checkReceivedCredential(sdJwtVc, credential, { holderPublicJwk, vct, verify }) {
  const decoded = await sdJwtVc.decode(credential);
  const typ = decoded.jwt?.header?.typ;
  if (typ !== "dc+sd-jwt") {
    throw new Error(`the credential's typ header is ${JSON.stringify(typ)}, not "dc+sd-jwt"`);
  }
  if (decoded.kbJwt) {
    throw new Error("the issued credential already ends in a key binding JWT");
  }

  const claims = verify
    ? (await sdJwtVc.verify(credential, { skewSeconds: CLOCK_SKEW_SECONDS })).payload
    : await sdJwtVc.getClaims(credential);

  const bound = claims.cnf?.jwk;
  if (!bound || bound.kty !== holderPublicJwk.kty || bound.crv !== holderPublicJwk.crv ||
      bound.x !== holderPublicJwk.x || bound.y !== holderPublicJwk.y) {
    throw new Error("the credential's cnf.jwk is not the holder's key, so it cannot be presented");
  }
  if (vct && claims.vct !== vct) {
    throw new Error(`the credential has vct ${JSON.stringify(claims.vct)}, but the issuer metadata promised ${vct}`);
  }
  return claims;
}

/**
 * Present `credential` disclosing what `frame` selects, with a key binding
 * JWT for `aud` (the verifier's client_id) and `nonce` from the request.
 */
export function presentCredential(sdJwtVc, credential, frame, { aud, nonce }) {
  const iat = Math.floor(Date.now() / 1000);
  return sdJwtVc.present(credential, frame, { kb: { payload: { aud, nonce, iat } } });
}

/** Return the claims a presentation discloses, as the verifier will see them. */
export async function disclosedClaims(sdJwtVc, presentation) {
  return sdJwtVc.getClaims(presentation);
}
