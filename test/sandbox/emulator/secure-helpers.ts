// Test helper for secure mode: the test-only SPNEGO header the emulator accepts,
// and a forged token (same password, different owner) to prove tokens are verified.

import { decodeToken, encodeIdentifier, encodeToken } from "../../../src/webhdfs/token-codec.js";

/** Any `Authorization: Negotiate <token>` counts as a successful SPNEGO exchange in the emulator. */
export const NEGOTIATE = { Authorization: "Negotiate YIIBhwYJKoZIhvcSAQICAQBuggF2MIIBcqADAgEF" };

/** `token` with its identifier's owner replaced but the original password kept. */
export function withOwner(token: string, owner: string): string {
  const decoded = decodeToken(token);
  const identifierBytes = encodeIdentifier({ ...decoded.identifier, owner });
  return encodeToken({ ...decoded, identifierBytes });
}
