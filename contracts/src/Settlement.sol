// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ICapabilityRegistry} from "./interfaces/ICapabilityRegistry.sol";
import {ISettlement} from "./interfaces/ISettlement.sol";
import {ISettlementRegistry} from "./interfaces/ISettlementRegistry.sol";
import {IERC3009} from "./interfaces/IERC3009.sol";

/// @title Glassbox settlement
/// @notice Settles paid calls: collects an x402 `exact` EIP-3009 authorization made out to this contract, checks
/// the executor's EIP-712 receipt, and credits pull-payment balances (executor fee; royalty walked up the fork
/// chain, the rest of each level over that version's splits). Anyone may submit a validly signed receipt.
/// @dev Money in == money credited: every settled item adds exactly authorization.value to totalOwed, and the
/// contract's USDC balance is always totalOwed + unattributed surplus (front-run payments not yet settled,
/// or plain transfers). Rounding remainders go to the first split recipient of the level.
contract Settlement is ISettlement, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant RECEIPT_TYPEHASH = keccak256(
        "Receipt(bytes32 versionId,string functionName,address payer,address executor,uint256 royalty,uint256 executorFee,bytes32 inputHash,bytes32 outputHash,uint64 fuelUsed,bytes32 paymentNonce,uint64 timestamp)"
    );
    bytes32 internal constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    uint256 internal constant BPS = 10_000;
    /// @dev settle() finds its few credits by a linear scan up to this many (cheaper than the transient index:
    /// no key hashing, nothing to clear); past it, every entry is indexed so lookups stay O(1).
    uint256 internal constant SINGLE_SCAN_LIMIT = 8;

    /// @notice The registry every receipt's version, price, fork chain and executor is checked against.
    ISettlementRegistry public immutable registry;
    /// @notice The EIP-3009 token payments are made in.
    IERC3009 public immutable usdc;

    /// @inheritdoc ISettlement
    mapping(address account => uint256 amount) public balanceOf;
    /// @inheritdoc ISettlement
    uint256 public totalOwed;
    mapping(bytes32 paymentKey => bool settled) internal _settled;

    /// @dev A credit waiting to be written: aggregated per (account, versionId, kind) within one transaction.
    struct Credit {
        address account;
        bytes32 versionId;
        CreditKind kind;
        uint256 amount;
    }

    /// @dev The in-memory state of one transaction: credits (`total` is what they will add to totalOwed) and
    /// the registry levels already read, so a batch reads each (version, executor) from the registry once.
    /// Lookups cost O(1) however many distinct versions a batch holds: past `scanLimit` entries (0 in a batch),
    /// transient storage (EIP-1153) maps the hash of each key to its index + 1 in these arrays, and _flush
    /// clears it. Measured against an in-memory open-addressing table, this is as cheap for all-distinct
    /// batches and cheaper for repetitive ones.
    struct Ledger {
        Credit[] credits;
        uint256 count;
        uint256 total;
        bytes32[] levelKeys;
        ISettlementRegistry.Level[] levels;
        uint256 levelCount;
        uint256 scanLimit;
    }

    constructor(ISettlementRegistry registry_, IERC3009 usdc_) EIP712("Glassbox Settlement", "1") {
        if (address(registry_) == address(0) || address(usdc_) == address(0)) revert ZeroAddress();
        registry = registry_;
        usdc = usdc_;
    }

    // ---------------------------------------------------------------- settling

    /// @inheritdoc ISettlement
    function settle(
        Receipt calldata receipt,
        bytes calldata receiptSignature,
        Authorization calldata authorization,
        bytes calldata paymentSignature
    ) external nonReentrant returns (bytes32 id) {
        // A single settlement never reads a level twice (fork chains have no cycles): no level cache.
        Ledger memory ledger = _newLedger(8, 0, SINGLE_SCAN_LIMIT);
        bool ok;
        bytes memory failure;
        (id, ok, failure) = _settleItem(receipt, receiptSignature, authorization, paymentSignature, ledger);
        if (!ok) _revertWith(failure);
        _flush(ledger);
    }

    /// @inheritdoc ISettlement
    /// @dev An item that fails any check leaves no state change: its checks run before anything is written,
    /// and its replay mark is undone when the payment cannot be collected.
    function settleBatch(SettlementItem[] calldata items) external nonReentrant returns (uint256 settled) {
        uint256 count = items.length;
        if (count == 0) revert EmptyBatch();
        // Room for a batch where every item is a different version (two credits each, no fork); grows past that.
        // Indexed from the first entry: measured cheaper than scanning first for every batch shape in bench/gas.ts.
        Ledger memory ledger = _newLedger(2 * count, count, 0);
        for (uint256 i; i < count; ++i) {
            SettlementItem calldata item = items[i];
            (bytes32 id, bool ok, bytes memory failure) =
                _settleItem(item.receipt, item.receiptSignature, item.authorization, item.paymentSignature, ledger);
            if (ok) ++settled;
            else emit SettlementSkipped(id, failure);
        }
        _flush(ledger);
    }

    // ---------------------------------------------------------------- claims

    /// @inheritdoc ISettlement
    function claim() external nonReentrant returns (uint256 amount) {
        amount = _claim(msg.sender);
    }

    /// @inheritdoc ISettlement
    function claimTo(address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        amount = _claim(to);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ISettlement
    function isSettled(address payer, bytes32 paymentNonce) external view returns (bool) {
        return _settled[_paymentKey(payer, paymentNonce)];
    }

    /// @inheritdoc ISettlement
    function receiptId(Receipt calldata receipt) external view returns (bytes32) {
        return _receiptDigest(receipt);
    }

    /// @notice The minimum royalty a receipt for `versionId` using `fuelUsed` must carry.
    function minimumRoyalty(bytes32 versionId, uint64 fuelUsed) external view returns (uint256) {
        ISettlementRegistry.Level memory level = registry.settlementLevel(versionId, address(0));
        if (!level.exists) revert UnknownVersion(versionId);
        return _minimumRoyalty(level, fuelUsed);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Validates, collects and credits one item. On failure nothing was written and `failure` holds the
    /// revert data (a custom error of this contract, or the token's own revert data).
    function _settleItem(
        Receipt calldata r,
        bytes calldata receiptSignature,
        Authorization calldata a,
        bytes calldata paymentSignature,
        Ledger memory ledger
    ) internal returns (bytes32 id, bool ok, bytes memory failure) {
        id = _receiptDigest(r);
        ISettlementRegistry.Level memory top;
        (top, failure) = _validate(r, receiptSignature, a, id, ledger);
        if (failure.length != 0) return (id, false, failure);
        bool frontRun;
        (ok, frontRun, failure) = _collect(a, paymentSignature, ledger.total);
        if (!ok) return (id, false, failure);
        _record(r, top, ledger, id, frontRun);
    }

    /// @dev Credits a collected item into the ledger and emits Settled.
    function _record(
        Receipt calldata r,
        ISettlementRegistry.Level memory top,
        Ledger memory ledger,
        bytes32 id,
        bool frontRun
    ) internal {
        _creditRoyalty(r.versionId, r.royalty, top, ledger);
        _add(ledger, r.executor, r.versionId, CreditKind.ExecutorFee, r.executorFee);
        emit Settled(id, r.versionId, r.payer, r.executor, r.royalty, r.executorFee, r.fuelUsed, r.paymentNonce, frontRun);
    }

    /// @dev Every check that needs no state change, cheapest first. Returns the top fork level for crediting.
    function _validate(
        Receipt calldata r,
        bytes calldata receiptSignature,
        Authorization calldata a,
        bytes32 id,
        Ledger memory ledger
    ) internal returns (ISettlementRegistry.Level memory top, bytes memory failure) {
        if (a.to != address(this)) return (top, abi.encodeWithSelector(WrongPayee.selector, a.to));
        if (a.from != r.payer) return (top, _mismatch("from"));
        if (a.nonce != r.paymentNonce) return (top, _mismatch("nonce"));
        if (r.royalty > type(uint256).max - r.executorFee || a.value != r.royalty + r.executorFee) {
            return (top, _mismatch("value"));
        }
        bytes32 key = _paymentKey(a.from, a.nonce);
        if (_settled[key]) return (top, abi.encodeWithSelector(AlreadySettled.selector, key));

        top = _level(ledger, r.versionId, r.executor);
        if (!top.exists) return (top, abi.encodeWithSelector(UnknownVersion.selector, r.versionId));
        if (top.yanked) return (top, abi.encodeWithSelector(VersionYanked.selector, r.versionId));
        uint256 minimum = _minimumRoyalty(top, r.fuelUsed);
        if (r.royalty < minimum) return (top, abi.encodeWithSelector(RoyaltyBelowPrice.selector, r.royalty, minimum));
        if (!top.executorActive) return (top, abi.encodeWithSelector(NotRegisteredExecutor.selector, r.executor));
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(id, receiptSignature);
        if (err != ECDSA.RecoverError.NoError || recovered != r.executor) {
            return (top, abi.encodeWithSelector(InvalidReceiptSignature.selector, r.executor, recovered));
        }
    }

    /// @dev Marks the payment settled (effect before the token interaction) and collects it; undoes the mark
    /// when the payment cannot be collected, so a skipped batch item leaves no state change.
    function _collect(Authorization calldata a, bytes calldata paymentSignature, uint256 pendingOwed)
        internal
        returns (bool ok, bool frontRun, bytes memory failure)
    {
        bytes32 key = _paymentKey(a.from, a.nonce);
        _settled[key] = true;
        (ok, frontRun, failure) = _pull(a, paymentSignature, pendingOwed);
        if (!ok) _settled[key] = false;
    }

    /// @dev Pulls the payment with the authorization. If the token says the authorization is already used,
    /// someone submitted it directly (front-run): the funds are then already here as unattributed surplus,
    /// and the item settles if the payer's signature is genuine and the surplus covers it.
    /// @param pendingOwed credits of this transaction not yet added to totalOwed.
    function _pull(Authorization calldata a, bytes calldata paymentSignature, uint256 pendingOwed)
        internal
        returns (bool ok, bool frontRun, bytes memory failure)
    {
        try usdc.transferWithAuthorization(
            a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, paymentSignature
        ) {
            return (true, false, failure);
        } catch (bytes memory reason) {
            if (!usdc.authorizationState(a.from, a.nonce)) return (false, false, reason);
        }
        if (!_isGenuinePayment(a, paymentSignature)) {
            return (false, true, abi.encodeWithSelector(InvalidPaymentSignature.selector));
        }
        uint256 held = usdc.balanceOf(address(this));
        uint256 owed = totalOwed + pendingOwed;
        if (held < owed || held - owed < a.value) {
            return (false, true, abi.encodeWithSelector(AuthorizationUsedElsewhere.selector, a.nonce));
        }
        return (true, true, failure);
    }

    /// @dev The payer's EIP-3009 TransferWithAuthorization signature under the token's own domain.
    function _isGenuinePayment(Authorization calldata a, bytes calldata paymentSignature) internal view returns (bool) {
        bytes32 structHash = keccak256(
            abi.encode(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce)
        );
        bytes32 digest = keccak256(abi.encodePacked(hex"1901", usdc.DOMAIN_SEPARATOR(), structHash));
        return SignatureChecker.isValidSignatureNowCalldata(a.from, digest, paymentSignature);
    }

    /// @dev Walks the fork chain: each level sends upstreamShareBps of what it receives to its parent version
    /// and splits the rest over its own recipients. Depth is bounded by the registry (MAX_FORK_DEPTH).
    function _creditRoyalty(
        bytes32 versionId,
        uint256 amount,
        ISettlementRegistry.Level memory level,
        Ledger memory ledger
    ) internal {
        CreditKind kind = CreditKind.Royalty;
        while (amount != 0) {
            uint256 upstream = amount * level.upstreamShareBps / BPS;
            _creditSplits(ledger, versionId, kind, amount - upstream, level.splits);
            if (upstream == 0) break;
            versionId = level.parentVersionId;
            level = _level(ledger, versionId, address(0));
            kind = CreditKind.Upstream;
            amount = upstream;
        }
    }

    /// @dev floor(amount * bps / 10000) each; the rounding remainder goes to the first recipient.
    function _creditSplits(
        Ledger memory ledger,
        bytes32 versionId,
        CreditKind kind,
        uint256 amount,
        ICapabilityRegistry.Split[] memory splits
    ) internal {
        if (amount == 0) return;
        uint256 count = splits.length;
        uint256 paid;
        for (uint256 i = 1; i < count; ++i) {
            uint256 share = amount * splits[i].bps / BPS;
            paid += share;
            _add(ledger, splits[i].recipient, versionId, kind, share);
        }
        _add(ledger, splits[0].recipient, versionId, kind, amount - paid);
    }

    function _minimumRoyalty(ISettlementRegistry.Level memory level, uint64 fuelUsed) internal pure returns (uint256) {
        if (level.accessMode == ICapabilityRegistry.AccessMode.Free) return 0;
        if (level.accessMode == ICapabilityRegistry.AccessMode.PerCall) return level.price;
        return level.price + (uint256(fuelUsed) * level.fuelPricePerMillion + 999_999) / 1_000_000;
    }

    function _claim(address to) internal returns (uint256 amount) {
        amount = balanceOf[msg.sender];
        if (amount == 0) revert NothingToClaim(msg.sender);
        balanceOf[msg.sender] = 0;
        totalOwed -= amount;
        emit Claimed(msg.sender, to, amount);
        IERC20(address(usdc)).safeTransfer(to, amount);
    }

    /// @dev The encodings hashed here are garbage once hashed: the free memory pointer is put back afterwards,
    /// so a batch does not pay growing memory-expansion costs for ~30 dead words per item.
    function _receiptDigest(Receipt calldata r) internal view returns (bytes32) {
        uint256 freeMemory;
        assembly ("memory-safe") {
            freeMemory := mload(0x40)
        }
        bytes32 structHash = keccak256(
            bytes.concat(
                abi.encode(RECEIPT_TYPEHASH, r.versionId, keccak256(bytes(r.functionName)), r.payer, r.executor, r.royalty),
                abi.encode(r.executorFee, r.inputHash, r.outputHash, r.fuelUsed, r.paymentNonce, r.timestamp)
            )
        );
        assembly ("memory-safe") {
            mstore(0x40, freeMemory)
        }
        return _hashTypedDataV4(structHash);
    }

    function _paymentKey(address payer, bytes32 nonce) internal pure returns (bytes32) {
        return keccak256(abi.encode(payer, nonce));
    }

    function _mismatch(string memory field) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(PaymentMismatch.selector, field);
    }

    // ---------------------------------------------------------------- in-memory ledger

    /// @param creditCapacity credits expected (rounded up to a power of two, at least 4); the arrays double when full.
    /// @param levelCapacity levels expected (likewise); 0 disables the level cache.
    /// @param scanLimit credits (levels) found by a linear scan before the transient index takes over.
    function _newLedger(uint256 creditCapacity, uint256 levelCapacity, uint256 scanLimit)
        internal
        pure
        returns (Ledger memory ledger)
    {
        ledger.scanLimit = scanLimit;
        creditCapacity = _powerOfTwoAtLeast(creditCapacity);
        ledger.credits = _creditPointers(creditCapacity);
        if (levelCapacity != 0) {
            levelCapacity = _powerOfTwoAtLeast(levelCapacity);
            ledger.levelKeys = new bytes32[](levelCapacity);
            ledger.levels = _levelPointers(levelCapacity);
        }
    }

    /// @dev registry.settlementLevel, read once per transaction for each (versionId, executor). Nothing this
    /// contract does can change the registry mid-transaction, so a cached level stays exact.
    function _level(Ledger memory ledger, bytes32 versionId, address executor)
        internal
        returns (ISettlementRegistry.Level memory level)
    {
        ISettlementRegistry.Level[] memory levels = ledger.levels;
        if (levels.length == 0) return registry.settlementLevel(versionId, executor);
        bytes32 key = _levelKey(versionId, executor);
        bytes32[] memory keys = ledger.levelKeys;
        uint256 count = ledger.levelCount;
        uint256 scanLimit = ledger.scanLimit;
        if (count > scanLimit) {
            uint256 entry = _tload(key);
            if (entry != 0) return levels[entry - 1];
        } else {
            for (uint256 i; i < count; ++i) {
                if (keys[i] == key) return levels[i];
            }
            if (count == scanLimit) {
                for (uint256 i; i < count; ++i) {
                    _tstore(keys[i], i + 1);
                }
            }
        }
        level = registry.settlementLevel(versionId, executor);
        if (count == levels.length) {
            bytes32[] memory grownKeys = new bytes32[](2 * count);
            ISettlementRegistry.Level[] memory grownLevels = _levelPointers(2 * count);
            for (uint256 i; i < count; ++i) {
                grownKeys[i] = keys[i];
                grownLevels[i] = levels[i];
            }
            ledger.levelKeys = keys = grownKeys;
            ledger.levels = levels = grownLevels;
        }
        keys[count] = key;
        levels[count] = level;
        if (++count > scanLimit) _tstore(key, count);
        ledger.levelCount = count;
    }

    /// @dev Adds to the (account, versionId, kind) credit, appending it when new.
    function _add(Ledger memory ledger, address account, bytes32 versionId, CreditKind kind, uint256 amount) internal {
        if (amount == 0) return;
        ledger.total += amount;
        Credit[] memory credits = ledger.credits;
        uint256 count = ledger.count;
        uint256 scanLimit = ledger.scanLimit;
        bytes32 key;
        if (count > scanLimit) {
            key = _creditKey(account, versionId, kind);
            uint256 entry = _tload(key);
            if (entry != 0) {
                // Cannot overflow: every credit is at most ledger.total, which the checked addition above bounds.
                unchecked {
                    credits[entry - 1].amount += amount;
                }
                return;
            }
        } else {
            for (uint256 i; i < count; ++i) {
                Credit memory c = credits[i];
                if (c.account == account && c.versionId == versionId && c.kind == kind) {
                    unchecked {
                        c.amount += amount;
                    }
                    return;
                }
            }
            if (count == scanLimit) {
                // Switching to the index: index what the scan covered so far.
                for (uint256 i; i < count; ++i) {
                    Credit memory c = credits[i];
                    _tstore(_creditKey(c.account, c.versionId, c.kind), i + 1);
                }
                key = _creditKey(account, versionId, kind);
            }
        }
        if (count == credits.length) {
            Credit[] memory grown = _creditPointers(2 * count);
            for (uint256 i; i < count; ++i) {
                grown[i] = credits[i];
            }
            ledger.credits = credits = grown;
        }
        credits[count] = Credit(account, versionId, kind, amount);
        if (++count > scanLimit) _tstore(key, count);
        ledger.count = count;
    }

    function _powerOfTwoAtLeast(uint256 n) internal pure returns (uint256 size) {
        size = 4;
        while (size < n) size <<= 1;
    }

    /// @dev A Credit[] of `length` slots left unset: `new Credit[](n)` would allocate n empty structs.
    /// Only slots below ledger.count are ever read, and each is set before it is counted.
    function _creditPointers(uint256 length) internal pure returns (Credit[] memory array) {
        assembly ("memory-safe") {
            array := mload(0x40)
            mstore(array, length)
            mstore(0x40, add(array, shl(5, add(length, 1))))
        }
    }

    /// @dev Like _creditPointers, for the level cache.
    function _levelPointers(uint256 length) internal pure returns (ISettlementRegistry.Level[] memory array) {
        assembly ("memory-safe") {
            array := mload(0x40)
            mstore(array, length)
            mstore(0x40, add(array, shl(5, add(length, 1))))
        }
    }

    /// @dev Writes each aggregated credit once and emits its Credited event, and clears the transient index
    /// (transient storage lives for the whole transaction: a second call in it must start empty).
    function _flush(Ledger memory ledger) internal {
        uint256 count = ledger.count;
        bool useIndex = count > ledger.scanLimit;
        for (uint256 i; i < count; ++i) {
            Credit memory c = ledger.credits[i];
            balanceOf[c.account] += c.amount;
            emit Credited(c.account, c.versionId, c.kind, c.amount);
            if (useIndex) _tstore(_creditKey(c.account, c.versionId, c.kind), 0);
        }
        if (ledger.total != 0) totalOwed += ledger.total;
        count = ledger.levelCount;
        if (count > ledger.scanLimit) {
            for (uint256 i; i < count; ++i) {
                _tstore(ledger.levelKeys[i], 0);
            }
        }
    }

    /// @dev Transient slot of a credit's ledger index: keccak256(abi.encode(account, versionId, kind)). 96 bytes
    /// hashed, so it never meets a level key (64 bytes) or a fixed slot such as the reentrancy guard's.
    function _creditKey(address account, bytes32 versionId, CreditKind kind) internal pure returns (bytes32 key) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, and(account, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(p, 0x20), versionId)
            mstore(add(p, 0x40), and(kind, 0xff))
            key := keccak256(p, 0x60)
        }
    }

    /// @dev Transient slot of a level's cache index: keccak256(abi.encode(versionId, executor)).
    function _levelKey(bytes32 versionId, address executor) internal pure returns (bytes32 key) {
        assembly ("memory-safe") {
            mstore(0x00, versionId)
            mstore(0x20, and(executor, 0xffffffffffffffffffffffffffffffffffffffff))
            key := keccak256(0x00, 0x40)
        }
    }

    function _tload(bytes32 slot) internal view returns (uint256 value) {
        assembly ("memory-safe") {
            value := tload(slot)
        }
    }

    function _tstore(bytes32 slot, uint256 value) internal {
        assembly ("memory-safe") {
            tstore(slot, value)
        }
    }

    function _revertWith(bytes memory failure) internal pure {
        assembly ("memory-safe") {
            revert(add(failure, 0x20), mload(failure))
        }
    }
}
