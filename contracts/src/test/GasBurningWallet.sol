// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title TEST ONLY: a smart-wallet payer whose ERC-1271 check burns all the gas it is given (finding M-2)
/// @notice In v1 one such payer in a settleBatch made the whole batch revert, forever. Royalty batches in v2 never
/// call a payer; the tests use this wallet as a receipt's payer to prove it.
contract GasBurningWallet {
    /// @notice Spins until the call runs out of gas.
    /// @return never returns
    function isValidSignature(bytes32, bytes calldata) external view returns (bytes4) {
        uint256 spins;
        while (gasleft() > 0) {
            spins += uint256(keccak256(abi.encode(spins)));
        }
        return bytes4(uint32(spins));
    }
}
