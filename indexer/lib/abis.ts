// One place for the ABIs the indexer listens to: the contracts' generated ABIs in the sdk.
export { capabilityRegistryAbi, settlementAbi } from "../../sdk/abi.ts";
