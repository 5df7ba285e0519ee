// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title TEST ONLY: an ERC-1271 smart wallet that can turn hostile
/// @notice Honest mode accepts signatures by its owner key (so it can sign EIP-3009 deposits and x402 vouchers);
///         the other modes model a payer that turns against a claim batch after its vouchers were accepted:
///         revert, burn all gas it is given, answer a wrong value, or return a huge blob (return-data bomb).
contract HostileWallet {
    /// @notice How `isValidSignature` behaves.
    enum Mode {
        Honest,
        Revert,
        BurnGas,
        WrongMagic,
        ReturnBomb
    }

    /// @notice The key whose ECDSA signatures the wallet accepts in honest mode.
    address public immutable owner;
    /// @notice The current behaviour.
    Mode public mode;

    /// @param owner_ The signing key.
    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice Switches the behaviour.
    /// @param mode_ The new mode.
    function setMode(Mode mode_) external {
        mode = mode_;
    }

    /// @notice ERC-1271 check.
    /// @param hash The signed digest.
    /// @param signature The owner's ECDSA signature.
    /// @return The ERC-1271 magic value when valid (honest mode).
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        Mode current = mode;
        if (current == Mode.Revert) revert("hostile wallet");
        if (current == Mode.BurnGas) {
            uint256 x;
            while (gasleft() > 0) x = uint256(keccak256(abi.encode(x)));
            return bytes4(0);
        }
        if (current == Mode.WrongMagic) return 0xdeadbeef;
        if (current == Mode.ReturnBomb) {
            assembly ("memory-safe") {
                mstore(0, 0x1626ba7e00000000000000000000000000000000000000000000000000000000)
                return(0, 100000)
            }
        }
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(hash, signature);
        return err == ECDSA.RecoverError.NoError && signer == owner ? this.isValidSignature.selector : bytes4(0);
    }
}
