// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IDepositCollector} from "../x402/interfaces/IDepositCollector.sol";

/// @title TEST ONLY: a deposit collector that delivers nothing
/// @notice Models a hostile collector trying to credit a channel with funds that never arrive (which a colluding
///         receiver could then claim out of other channels' escrow).
contract NullCollector is IDepositCollector {
    /// @inheritdoc IDepositCollector
    function collect(address, address, uint256, bytes32, bytes calldata) external {}
}
