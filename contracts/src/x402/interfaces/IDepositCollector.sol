// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title A pluggable pull of deposit funds into the x402 batch-settlement channel contract.
/// @notice The channel contract calls `collect` during `deposit` and then checks that its own token balance grew
///         by exactly `amount`, so a collector can never credit a channel with funds that did not arrive.
interface IDepositCollector {
    /// @notice Moves `amount` of `token` from `payer` to the calling channel contract.
    /// @param payer The owner of the funds (the channel's payer).
    /// @param token The ERC-20 token of the channel.
    /// @param amount The exact amount to move.
    /// @param channelId The channel being funded; collectors bind their authorization to it.
    /// @param collectorData Collector-specific authorization data (signatures, validity window, salts).
    function collect(address payer, address token, uint256 amount, bytes32 channelId, bytes calldata collectorData)
        external;
}
