// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IDepositCollector} from "./interfaces/IDepositCollector.sol";
import {IERC3009Receive} from "./interfaces/IERC3009Receive.sol";

/// @title ERC-3009 deposit collector for the x402 batch-settlement channel contract
/// @notice Pulls a channel deposit with the payer's `receiveWithAuthorization` signature and forwards it to the
///         channel contract. EIP-3009 lets only the payee (`to`, here this collector) submit a receive
///         authorization, and this collector only acts for the channel contract, whose `deposit` credits exactly
///         the channel the authorization's nonce names: whoever relays a deposit, the funds land in the payer's
///         own channel.
/// @dev Installed by runtime code at its canonical address (hardhat_setCode on dev chains), so it holds no state
///      and no immutables: the channel contract address is a constant.
contract Erc3009DepositCollector is IDepositCollector {
    using SafeERC20 for IERC20;

    /// @notice The only caller allowed: the x402 batch-settlement channel contract at its canonical address.
    address public constant BATCH_SETTLEMENT = 0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003;

    /// @notice `collect` was called by someone other than the channel contract.
    /// @param caller The rejected caller.
    error OnlyBatchSettlement(address caller);

    /// @inheritdoc IDepositCollector
    /// @dev `collectorData` is `abi.encode(uint256 validAfter, uint256 validBefore, uint256 salt, bytes signature)`;
    ///      the ERC-3009 nonce is `keccak256(abi.encode(channelId, salt))`, binding the authorization to the channel.
    function collect(address payer, address token, uint256 amount, bytes32 channelId, bytes calldata collectorData)
        external
    {
        if (msg.sender != BATCH_SETTLEMENT) revert OnlyBatchSettlement(msg.sender);
        (uint256 validAfter, uint256 validBefore, uint256 salt, bytes memory signature) =
            abi.decode(collectorData, (uint256, uint256, uint256, bytes));
        bytes32 nonce = keccak256(abi.encode(channelId, salt));
        IERC3009Receive(token).receiveWithAuthorization(
            payer, address(this), amount, validAfter, validBefore, nonce, signature
        );
        IERC20(token).safeTransfer(msg.sender, amount);
    }
}
