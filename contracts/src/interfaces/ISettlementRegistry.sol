// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICapabilityRegistry} from "./ICapabilityRegistry.sol";

/// @title The registry view Settlement reads when it credits royalties or checks a receipt
/// @notice One call per fork level returns everything Settlement needs, so a settlement pays for one
/// external call per level and only the storage slots it really uses.
/// @dev Nothing here depends on yanks or on whether an executor is still registered: a call served before a
/// yank or a deregistration stays payable (property 6 of issue 9).
interface ISettlementRegistry {
    /// @dev One level of a fork chain as Settlement sees it.
    struct Level {
        /// @dev false when the version was never published (all other fields are then zero).
        bool exists;
        ICapabilityRegistry.AccessMode accessMode;
        /// @dev Share of every royalty this version's package owes its parent version (0 for originals).
        uint16 upstreamShareBps;
        uint256 price;
        uint256 fuelPricePerMillion;
        /// @dev Only filled when upstreamShareBps > 0 (nothing flows up otherwise).
        bytes32 parentVersionId;
        ICapabilityRegistry.Split[] splits;
    }

    /// @notice The settlement view of `versionId`.
    /// @param versionId the version to read
    /// @return level its pricing, fork link and splits (exists false when unknown)
    function settlementLevel(bytes32 versionId) external view returns (Level memory level);

    /// @notice What Settlement.buyLicence needs to sell a licence.
    /// @param versionId the version
    /// @return exists whether the version was published
    /// @return yanked whether it is yanked (no new licences are sold)
    /// @return price the current licence price (0: not offered)
    function licenceTerms(bytes32 versionId) external view returns (bool exists, bool yanked, uint256 price);

    /// @notice The fee an operator registered (immutable per registration), for overcharge proofs.
    /// @param operator the executor's address
    /// @return registered true if the operator ever registered (active or retired)
    /// @return feePerCall the registered fee per paid call (0 when never registered)
    function executorFee(address operator) external view returns (bool registered, uint256 feePerCall);
}
