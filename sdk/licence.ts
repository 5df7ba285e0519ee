import { getAddress, recoverMessageAddress, type Address, type Hex } from "viem";

/**
 * The signed request a licence holder sends an executor to download a version's component bytes
 * (GET /v1/licensed/<versionId>/component). The EIP-191 message names the version, the chain, the executor
 * and an expiry, so a signature seen in transit works only at that executor, for that version, for a few
 * minutes; the executor recovers the signer and serves the bytes only if Settlement.hasLicence(version, signer).
 */
export function licenceDownloadMessage(args: { versionId: Hex; chainId: number; executor: Address; expiresAt: bigint }): string {
  return `glassbox-licence-download:${args.versionId.toLowerCase()}:${args.chainId}:${getAddress(args.executor).toLowerCase()}:${args.expiresAt}`;
}

/** The longest an executor accepts a download signature for, counted from now. */
export const LICENCE_REQUEST_MAX_SECONDS = 600n;

export { LICENCE_EXPIRES_HEADER, LICENCE_SIGNATURE_HEADER } from "./protocol.ts";

/** The address that signed licenceDownloadMessage(args), or undefined for a malformed signature. */
export async function licenceRequestSigner(args: { versionId: Hex; chainId: number; executor: Address; expiresAt: bigint; signature: Hex }): Promise<Address | undefined> {
  try {
    return await recoverMessageAddress({ message: licenceDownloadMessage(args), signature: args.signature });
  } catch {
    return undefined;
  }
}
