// Matching a DCQL query against the wallet's credentials with the `dcql`
// package, and turning each match into an SD-JWT presentation frame.
import { DcqlQuery } from "dcql";

export class NoMatchError extends Error {}

/**
 * Choose what to present for a DCQL query.
 *
 * `credentials` are the wallet's SD-JWT VCs as `{ entry, claims }`, where
 * `claims` are all of a credential's claims with disclosures applied.
 * Returns `{ queryId: [{ entry, frame, claims }] }`: per credential query
 * the credentials to present, the presentation frame that discloses the
 * claims of the first claim set they satisfy, and those claims. Throws
 * `NoMatchError` naming the credential queries the wallet cannot satisfy.
 */
export function selectPresentations(dcqlQuery, credentials) {
  const query = DcqlQuery.parse(dcqlQuery);
  DcqlQuery.validate(query);

  const input = credentials.map(({ claims }) => ({
    credential_format: "dc+sd-jwt",
    vct: claims.vct,
    claims,
    cryptographic_holder_binding: true,
  }));
  const result = DcqlQuery.query(query, input);
  if (!result.can_be_satisfied) {
    throw new NoMatchError(describeUnmatched(query, result));
  }

  const selection = {};
  for (const queryId of requiredQueryIds(query, result)) {
    const credentialQuery = query.credentials.find((candidate) => candidate.id === queryId);
    const match = result.credential_matches[queryId];
    const chosen = credentialQuery.multiple ? match.valid_credentials : [match.valid_credentials[0]];
    selection[queryId] = chosen.map((valid) => {
      const claims = valid.claims.valid_claim_sets[0].output;
      return {
        entry: credentials[valid.input_credential_index].entry,
        frame: presentationFrame(claims),
        claims,
      };
    });
  }
  return selection;
}

/**
 * Return the ids of the credential queries to present for: all of them without
 * `credential_sets`, else the first satisfiable option of every required
 * set and of every optional set that can be satisfied.
 */
function requiredQueryIds(query, result) {
  const matched = (id) => result.credential_matches[id]?.success === true;
  if (!query.credential_sets) {
    return query.credentials.map((credentialQuery) => credentialQuery.id);
  }
  const ids = new Set();
  for (const set of query.credential_sets) {
    const option = set.options.find((candidate) => candidate.every(matched));
    if (option) option.forEach((id) => ids.add(id));
  }
  return [...ids];
}

/**
 * Build an @sd-jwt presentation frame that discloses every value in
 * `claims`. Objects recurse and array elements are selected by index. Any
 * other value, and an empty object or array, is selected with `true`.
 */
export function presentationFrame(claims) {
  const frame = {};
  for (const [name, value] of Object.entries(claims)) {
    frame[name] = frameFor(value);
  }
  return frame;
}

function frameFor(value) {
  if (Array.isArray(value) && value.length > 0) {
    return Object.fromEntries(value.map((element, index) => [index, frameFor(element)]));
  }
  if (value !== null && typeof value === "object" && Object.keys(value).length > 0) {
    return presentationFrame(value);
  }
  return true;
}

function describeUnmatched(query, result) {
  const unmatched = query.credentials
    .map((credentialQuery) => credentialQuery.id)
    .filter((id) => result.credential_matches[id]?.success !== true);
  return (
    `the wallet has no credential for the credential queries ${unmatched.join(", ")} ` +
    "of the DCQL query; receive those credentials first"
  );
}
