// One place for the ABIs the indexer listens to: the contracts' generated ABIs in the sdk.
import { parseAbi } from "viem";

export { batchSettlementAbi, capabilityRegistryAbi, settlementAbi } from "../../sdk/abi.ts";

/**
 * The two EIP-3009 token events an `exact` payment leaves (the authorization, then the transfer it moved), as
 * every USDC deployment emits them: the indexer does not assume the local token's extra events.
 */
export const eip3009TokenAbi = parseAbi([
  "event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)",
  "event Transfer(address indexed from, address indexed to, uint256 value)",
]);
