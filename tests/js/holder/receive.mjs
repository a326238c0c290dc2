// Receiving SD-JWT VCs from a credential offer with the pre-authorized code
// grant of OpenID4VCI 1.0, driven by @openid4vc/openid4vci.
import { clientAuthenticationAnonymous } from "@openid4vc/oauth2";
import { Openid4vciClient } from "@openid4vc/openid4vci";

import { fetchWithTimeout, generateRandom, hash, holderSigner } from "./callbacks.mjs";
import { checkReceivedCredential, createSdJwtVc } from "./sdjwt.mjs";
import { HOLDER_ALG, addCredential, publicJwk } from "./wallet.mjs";

const PRE_AUTHORIZED_CODE_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

/**
 * Receive every credential that the offer at `offerUrl` names, add them to
 * `wallet` and return a summary with each credential's claims.
 *
 * `txCode` is the transaction code the citizen would type in the wallet.
 * With `issuerJwks` the issuer signature and status of every credential are
 * verified before it is stored.
 */
export async function receiveCredentials(wallet, offerUrl, { txCode, issuerJwks = [] }) {
  const holderPublic = publicJwk(wallet.holderKey);
  const client = new Openid4vciClient({
    callbacks: {
      hash,
      generateRandom,
      signJwt: holderSigner(wallet.holderKey),
      clientAuthentication: clientAuthenticationAnonymous(),
      fetch: fetchWithTimeout,
    },
  });

  const offer = await client.resolveCredentialOffer(offerUrl);
  const grant = offer.grants?.[PRE_AUTHORIZED_CODE_GRANT];
  if (!grant) {
    throw new Error(`the credential offer has no ${PRE_AUTHORIZED_CODE_GRANT} grant`);
  }
  if (grant.tx_code && txCode === undefined) {
    throw new Error(
      `the credential offer asks for a transaction code (${describeTxCode(grant.tx_code)}); pass it with --tx-code`,
    );
  }

  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer,
    issuerMetadata,
    txCode,
  });

  const sdJwtVc = await createSdJwtVc(wallet.holderKey, issuerJwks);
  const received = [];
  let tokenNonce = accessTokenResponse.c_nonce;
  for (const configurationId of offer.credential_configuration_ids) {
    const nonce = await freshNonce(client, issuerMetadata, tokenNonce);
    tokenNonce = undefined;
    const { jwt } = await client.createCredentialRequestJwtProof({
      issuerMetadata,
      credentialConfigurationId: configurationId,
      signer: { method: "jwk", publicJwk: holderPublic, alg: HOLDER_ALG },
      nonce,
    });
    const { credentialResponse } = await client.retrieveCredentials({
      issuerMetadata,
      accessToken: accessTokenResponse.access_token,
      credentialConfigurationId: configurationId,
      proofs: { jwt: [jwt] },
    });

    const configuration = issuerMetadata.credentialIssuer.credential_configurations_supported[configurationId];
    if (configuration.format !== "dc+sd-jwt") {
      throw new Error(`credential configuration ${configurationId} has format ${configuration.format}; the holder stores dc+sd-jwt only`);
    }
    if (!credentialResponse.credentials?.length) {
      throw new Error(`the credential response for ${configurationId} has no credentials`);
    }
    for (const { credential } of credentialResponse.credentials) {
      const claims = await checkReceivedCredential(sdJwtVc, credential, {
        holderPublicJwk: holderPublic,
        vct: configuration.vct,
        verify: issuerJwks.length > 0,
      });
      addCredential(wallet, {
        format: "dc+sd-jwt",
        credential_issuer: offer.credential_issuer,
        credential_configuration_id: configurationId,
        vct: claims.vct,
        credential,
      });
      received.push({ credential_configuration_id: configurationId, vct: claims.vct, claims: subjectClaims(claims) });
    }
  }

  return {
    credential_issuer: offer.credential_issuer,
    verified_by_holder: issuerJwks.length > 0,
    credentials: received,
  };
}

/**
 * Return a `c_nonce` for the next key proof: from the nonce endpoint when
 * the issuer has one, else the one the token response carried, else none.
 */
async function freshNonce(client, issuerMetadata, tokenNonce) {
  if (issuerMetadata.credentialIssuer.nonce_endpoint) {
    const nonceResponse = await client.requestNonce({ issuerMetadata });
    return nonceResponse.c_nonce;
  }
  return tokenNonce;
}

function describeTxCode(txCode) {
  const parts = [];
  if (txCode.length) parts.push(`${txCode.length} characters`);
  if (txCode.input_mode) parts.push(txCode.input_mode);
  if (txCode.description) parts.push(`"${txCode.description}"`);
  return parts.join(", ") || "no details given";
}

/** Return the claims about the subject, without the registered JWT and SD-JWT claims. */
export function subjectClaims(claims) {
  const registered = new Set(["iss", "sub", "iat", "nbf", "exp", "cnf", "vct", "status", "_sd_alg"]);
  return Object.fromEntries(Object.entries(claims).filter(([name]) => !registered.has(name)));
}
