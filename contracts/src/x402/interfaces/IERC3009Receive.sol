// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title The EIP-3009 `receiveWithAuthorization` (bytes-signature overload, as in USDC FiatToken v2.2).
interface IERC3009Receive {
    /// @notice Moves `value` from `from` to `to` on `from`'s signed authorization; the token requires
    ///         `msg.sender == to`, so only the payee can submit it (nobody can front-run it into another transfer).
    /// @param from The payer that signed the authorization.
    /// @param to The payee, which must be the caller.
    /// @param value The amount authorized.
    /// @param validAfter The authorization is valid strictly after this timestamp.
    /// @param validBefore The authorization is valid strictly before this timestamp.
    /// @param nonce The unique authorization nonce chosen by the payer.
    /// @param signature The payer's EIP-712 signature (65-byte ECDSA or an ERC-1271 blob).
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) external;
}
