// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {LocalUSDC} from "../LocalUSDC.sol";

/// @title TEST ONLY: an EIP-3009 token that re-enters a target on every balance change
/// @notice Arm it with a target and calldata (e.g. Settlement.claim or settle); on the next transfer it calls
/// the target once, swallows the outcome and records it, so tests can assert the re-entry was refused while
/// the outer call still completed.
contract ReentrantToken is LocalUSDC {
    address public target;
    bytes public payload;
    bool public reentered;
    bool public reentrySucceeded;
    bytes public reentryRevertData;

    /// @notice Re-enter `target_` with `payload_` during the next transfer.
    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
        reentered = false;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (target != address(0) && !reentered) {
            reentered = true;
            (bool ok, bytes memory data) = target.call(payload);
            reentrySucceeded = ok;
            reentryRevertData = data;
        }
    }
}
