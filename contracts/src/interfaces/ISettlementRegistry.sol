// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICapabilityRegistry} from "./ICapabilityRegistry.sol";

/// @title The registry view Settlement reads on every settled call
/// @notice One call per fork level returns everything Settlement needs, so a settlement pays for one
/// external call per level and only the storage slots it really uses.
interface ISettlementRegistry {
    /// @dev One level of a fork chain as Settlement sees it.
    struct Level {
        /// @dev false when the version was never published (all other fields are then zero).
        bool exists;
        bool yanked;
        ICapabilityRegistry.AccessMode accessMode;
        /// @dev Share of every royalty this version's package owes its parent version (0 for originals).
        uint16 upstreamShareBps;
        uint256 price;
        uint256 fuelPricePerMillion;
        /// @dev Only filled when upstreamShareBps > 0 (nothing flows up otherwise).
        bytes32 parentVersionId;
        ICapabilityRegistry.Split[] splits;
        /// @dev isActiveExecutor(executor); false when executor is the zero address.
        bool executorActive;
    }

    /// @notice The settlement view of `versionId`, plus whether `executor` is an active executor.
    function settlementLevel(bytes32 versionId, address executor) external view returns (Level memory level);
}
