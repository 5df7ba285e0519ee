// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ISettlement} from "../interfaces/ISettlement.sol";

/// @title Pull-payment balances and the per-transaction credit aggregation Settlement writes them through
/// @notice Settlement decides who is owed what (its money rules); this library only keeps the books: credits
/// collected during one transaction are aggregated per (account, version, kind) in memory and written once
/// each, with one Credited event per aggregate, and every balance change keeps `totalOwed` equal to the sum of
/// the balances.
/// @dev Lookups in the in-memory ledger are O(1) however many distinct credits a transaction makes: transient
/// storage (EIP-1153) maps the hash of each key to its index + 1, and flush clears it (transient storage lives
/// for the whole transaction, so a second flush in it must start empty).
library CreditLedger {
    /// @dev The persistent books: what each account may claim, and their sum.
    struct Balances {
        mapping(address account => uint256 amount) balanceOf;
        uint256 totalOwed;
    }

    /// @dev A credit waiting to be written.
    struct Credit {
        address account;
        bytes32 versionId;
        ISettlement.CreditKind kind;
        uint256 amount;
    }

    /// @dev Credits of the current transaction; `total` is what flush adds to totalOwed.
    struct Pending {
        Credit[] credits;
        uint256 count;
        uint256 total;
    }

    /// @notice An empty pending ledger with room for `capacity` credits (it grows past that).
    /// @param capacity credits expected
    /// @return pending the ledger
    function newPending(uint256 capacity) internal pure returns (Pending memory pending) {
        pending.credits = _creditPointers(capacity < 4 ? 4 : capacity);
    }

    /// @notice Adds `amount` to the pending (account, versionId, kind) credit, appending it when new.
    /// @param pending the transaction's ledger
    /// @param account who will be able to claim it
    /// @param versionId the version the money is for
    /// @param kind what it is for
    /// @param amount USDC base units (0 is ignored)
    function add(
        Pending memory pending,
        address account,
        bytes32 versionId,
        ISettlement.CreditKind kind,
        uint256 amount
    ) internal {
        if (amount == 0) return;
        pending.total += amount;
        bytes32 key = _key(account, versionId, kind);
        uint256 entry = _tload(key);
        Credit[] memory credits = pending.credits;
        if (entry != 0) {
            // Cannot overflow: every credit is at most pending.total, which the checked addition above bounds.
            unchecked {
                credits[entry - 1].amount += amount;
            }
            return;
        }
        uint256 count = pending.count;
        if (count == credits.length) {
            Credit[] memory grown = _creditPointers(2 * count);
            for (uint256 i; i < count; ++i) {
                grown[i] = credits[i];
            }
            pending.credits = credits = grown;
        }
        credits[count] = Credit(account, versionId, kind, amount);
        pending.count = ++count;
        _tstore(key, count);
    }

    /// @notice Writes each aggregated credit once, emits its Credited event, adds the total to totalOwed and
    /// clears the transient index.
    /// @param books the persistent balances
    /// @param pending the transaction's ledger (unusable afterwards)
    function flush(Balances storage books, Pending memory pending) internal {
        uint256 count = pending.count;
        Credit[] memory credits = pending.credits;
        for (uint256 i; i < count; ++i) {
            Credit memory c = credits[i];
            books.balanceOf[c.account] += c.amount;
            emit ISettlement.Credited(c.account, c.versionId, c.kind, c.amount);
            _tstore(_key(c.account, c.versionId, c.kind), 0);
        }
        if (pending.total != 0) books.totalOwed += pending.total;
    }

    /// @notice Empties an account's balance (effect before the caller's transfer).
    /// @param books the persistent balances
    /// @param account whose balance
    /// @return amount what it held
    function debitAll(Balances storage books, address account) internal returns (uint256 amount) {
        amount = books.balanceOf[account];
        books.balanceOf[account] = 0;
        books.totalOwed -= amount;
    }

    /// @dev Transient slot of a credit's index: keccak256(abi.encode(account, versionId, kind)), 96 bytes hashed,
    /// so it never meets Settlement's level keys (64 bytes) or a fixed slot such as the reentrancy guard's.
    function _key(address account, bytes32 versionId, ISettlement.CreditKind kind) private pure returns (bytes32 key) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, and(account, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(p, 0x20), versionId)
            mstore(add(p, 0x40), and(kind, 0xff))
            key := keccak256(p, 0x60)
        }
    }

    /// @dev A Credit[] of `length` slots left unset: `new Credit[](n)` would allocate n empty structs. Only
    /// slots below pending.count are ever read, and each is set before it is counted.
    function _creditPointers(uint256 length) private pure returns (Credit[] memory array) {
        assembly ("memory-safe") {
            array := mload(0x40)
            mstore(array, length)
            mstore(0x40, add(array, shl(5, add(length, 1))))
        }
    }

    /// @dev Reads a transient slot.
    function _tload(bytes32 slot) private view returns (uint256 value) {
        assembly ("memory-safe") {
            value := tload(slot)
        }
    }

    /// @dev Writes a transient slot.
    function _tstore(bytes32 slot, uint256 value) private {
        assembly ("memory-safe") {
            tstore(slot, value)
        }
    }
}
