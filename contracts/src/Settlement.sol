// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ICapabilityRegistry} from "./interfaces/ICapabilityRegistry.sol";
import {ISettlement} from "./interfaces/ISettlement.sol";
import {ISettlementRegistry} from "./interfaces/ISettlementRegistry.sol";
import {CreditLedger} from "./libraries/CreditLedger.sol";

/// @title Glassbox settlement v2
/// @notice Executors (the x402 payees of the calls they serve) pay the royalties they owe here in aggregated
/// batches of royalty lines, and post a bond that pays any receipt they signed but did not honour: not settled
/// by its deadline, settled differently, or charging more than the registered fee. Every credit is a
/// pull-payment balance (CreditLedger).
/// @dev Money rules live here; the books (balances, totalOwed, per-transaction aggregation) in CreditLedger.
/// Invariant: usdc.balanceOf(this) == totalOwed + totalBonds + surplus, where surplus only grows by transfers
/// nobody is owed (sweepSurplus sends exactly that, never more). Rounding remainders of a split go to the
/// level's first recipient, so every unit paid in is credited.
contract Settlement is ISettlement, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using CreditLedger for CreditLedger.Pending;

    /// @notice EIP-712 type hash of Receipt (sdk/receipt.ts RECEIPT_TYPES).
    bytes32 public constant RECEIPT_TYPEHASH = keccak256(
        "Receipt(bytes32 versionId,string functionName,address payer,address executor,uint64 seq,uint256 royalty,uint256 executorFee,uint64 fuel,bytes32 inputHash,bytes32 outputHash,Dependency[] dependencies,bytes32 paymentRef,uint64 issuedAt,uint64 deadline)Dependency(bytes32 versionId,uint32 calls,uint64 fuel,uint256 royalty)"
    );
    /// @notice EIP-712 type hash of Dependency.
    bytes32 public constant DEPENDENCY_TYPEHASH =
        keccak256("Dependency(bytes32 versionId,uint32 calls,uint64 fuel,uint256 royalty)");
    /// @notice A receipt's deadline counts at most this long after its issuedAt.
    uint64 public constant MAX_SETTLE_WINDOW = 7 days;
    /// @notice Time between beginExit and withdrawBond: longer than MAX_SETTLE_WINDOW, so every receipt issued
    /// before the exit is overdue (and provable) while the bond is still here.
    uint64 public constant EXIT_DELAY = 8 days;
    /// @notice The payer's bounty on a slash, in bps of what the slash paid.
    uint256 public constant BOUNTY_BPS = 1_000;
    /// @notice Most versions one batch can index (16-bit index in a royalty line).
    uint256 public constant MAX_BATCH_VERSIONS = 1 << 16;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant ROYALTY_MASK = (1 << 96) - 1;
    uint256 internal constant RECEIPT_ID_SHIFT = 112;

    /// @notice The registry versions, prices, fork chains, splits and executor fees are read from.
    ISettlementRegistry public immutable registry;
    /// @notice The token royalties and bonds are paid in.
    IERC20 public immutable usdc;
    /// @notice Where sweepSurplus sends stray funds (set once, at deploy).
    address public immutable surplusRecipient;

    /// @dev An executor's bond and when it may leave (0: no exit begun).
    struct Bond {
        uint192 amount;
        uint64 exitAt;
    }

    /// @dev Registry levels read in this transaction, each read once: a transient index maps a version's key to
    /// its position + 1 in these arrays (cleared by _clearLevels).
    struct LevelCache {
        bytes32[] keys;
        ISettlementRegistry.Level[] levels;
        uint256 count;
    }

    /// @dev One royalty a receipt owes, resolved against the registry.
    struct Due {
        bytes32 versionId;
        ISettlementRegistry.Level level;
        /// @dev what the receipt signed for this line
        uint256 signed;
        /// @dev the registered minimum for the calls and fuel the receipt names
        uint256 minimum;
    }

    CreditLedger.Balances internal _books;
    /// @inheritdoc ISettlement
    uint256 public totalBonds;
    mapping(address executor => Bond) internal _bonds;
    /// @dev Royalty lines settled so far; nextSeq = settledLines + 1.
    mapping(address executor => uint64 count) internal _settledLines;
    mapping(address executor => mapping(uint64 firstSeq => bytes32 hash)) internal _batchHashes;
    mapping(bytes32 receiptId => bool) internal _slashed;
    mapping(bytes32 receiptId => bool) internal _overchargeSlashed;
    mapping(bytes32 versionId => mapping(address holder => bool)) internal _licences;

    /// @param registry_ the capability registry
    /// @param usdc_ the token
    /// @param surplusRecipient_ the only address stray funds can ever be swept to
    constructor(ISettlementRegistry registry_, IERC20 usdc_, address surplusRecipient_)
        EIP712("Glassbox Settlement", "2")
    {
        if (address(registry_) == address(0) || address(usdc_) == address(0) || surplusRecipient_ == address(0)) {
            revert ZeroAddress();
        }
        registry = registry_;
        usdc = usdc_;
        surplusRecipient = surplusRecipient_;
    }

    // ---------------------------------------------------------------- royalties

    /// @inheritdoc ISettlement
    /// @dev Per line: one calldata word, a bounds check, a minimum check and a sum. Per version: one registry read
    /// per fork level and one credit per (recipient, version, kind). Per batch: one token movement and one
    /// stored hash (the lines themselves stay in calldata, which is what mismatch proofs replay).
    function settleRoyalties(bytes32[] calldata versions, uint256[] calldata lines)
        external
        nonReentrant
        returns (uint64 firstSeq)
    {
        uint256 versionCount = versions.length;
        uint256 lineCount = lines.length;
        if (versionCount == 0 || lineCount == 0) revert EmptyBatch();
        if (versionCount > MAX_BATCH_VERSIONS) revert TooManyVersions(versionCount);

        LevelCache memory cache = _newLevelCache(versionCount);
        ISettlementRegistry.Level[] memory tops = new ISettlementRegistry.Level[](versionCount);
        uint256[] memory minimums = new uint256[](versionCount);
        for (uint256 i; i < versionCount; ++i) {
            ISettlementRegistry.Level memory level = _level(cache, versions[i]);
            if (!level.exists) revert UnknownVersion(versions[i]);
            tops[i] = level;
            minimums[i] = level.accessMode == ICapabilityRegistry.AccessMode.Free ? 0 : level.price;
        }

        uint256[] memory sums = new uint256[](versionCount);
        for (uint256 j; j < lineCount; ++j) {
            uint256 line = lines[j];
            uint256 index = (line >> 96) & 0xffff;
            if (index >= versionCount) revert VersionIndexOutOfRange(j, index);
            uint256 royalty = line & ROYALTY_MASK;
            if (royalty < minimums[index]) revert RoyaltyBelowMinimum(j, royalty, minimums[index]);
            // Cannot overflow: at most 2^64 lines of at most 2^96 each.
            unchecked {
                sums[index] += royalty;
            }
        }

        CreditLedger.Pending memory pending = CreditLedger.newPending(2 * versionCount);
        for (uint256 i; i < versionCount; ++i) {
            if (sums[i] != 0) _credit(pending, cache, versions[i], tops[i], sums[i], CreditKind.Royalty);
        }
        uint256 total = pending.total;

        uint64 settled = _settledLines[msg.sender];
        firstSeq = settled + 1;
        _settledLines[msg.sender] = settled + uint64(lineCount);
        bytes32 hash = keccak256(abi.encode(versions, lines));
        _batchHashes[msg.sender][firstSeq] = hash;
        CreditLedger.flush(_books, pending);
        _clearLevels(cache);
        emit RoyaltiesSettled(msg.sender, firstSeq, lineCount, total, hash);

        if (total != 0) usdc.safeTransferFrom(msg.sender, address(this), total);
    }

    // ---------------------------------------------------------------- licences

    /// @inheritdoc ISettlement
    /// @dev The payer is msg.sender, so nothing a stranger sees in a mempool lets it spend anyone else's funds.
    function buyLicence(bytes32 versionId, address holder, uint256 maxPrice)
        external
        nonReentrant
        returns (uint256 price)
    {
        if (holder == address(0)) revert ZeroAddress();
        bool exists;
        bool yanked;
        (exists, yanked, price) = registry.licenceTerms(versionId);
        if (!exists) revert UnknownVersion(versionId);
        if (yanked) revert LicenceVersionYanked(versionId);
        if (price == 0) revert LicenceNotOffered(versionId);
        if (price > maxPrice) revert LicencePriceAboveMax(versionId, price, maxPrice);
        if (_licences[versionId][holder]) revert AlreadyLicensed(versionId, holder);

        _licences[versionId][holder] = true;
        LevelCache memory cache = _newLevelCache(1);
        CreditLedger.Pending memory pending = CreditLedger.newPending(4);
        _credit(pending, cache, versionId, _level(cache, versionId), price, CreditKind.Licence);
        CreditLedger.flush(_books, pending);
        _clearLevels(cache);
        emit LicenceBought(versionId, holder, msg.sender, price);

        usdc.safeTransferFrom(msg.sender, address(this), price);
    }

    /// @inheritdoc ISettlement
    function hasLicence(bytes32 versionId, address holder) external view returns (bool) {
        return _licences[versionId][holder];
    }

    // ---------------------------------------------------------------- bonds

    /// @inheritdoc ISettlement
    function postBond(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Bond storage bond = _bonds[msg.sender];
        uint256 updated = bond.amount + amount;
        bond.amount = SafeCast.toUint192(updated);
        totalBonds += amount;
        emit BondPosted(msg.sender, amount, updated);
        usdc.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc ISettlement
    function beginExit() external {
        Bond storage bond = _bonds[msg.sender];
        if (bond.amount == 0) revert NoBond(msg.sender);
        if (bond.exitAt != 0) revert ExitAlreadyBegun(msg.sender, bond.exitAt);
        uint64 withdrawableAt = uint64(block.timestamp) + EXIT_DELAY;
        bond.exitAt = withdrawableAt;
        emit ExitBegun(msg.sender, withdrawableAt);
    }

    /// @inheritdoc ISettlement
    function withdrawBond() external nonReentrant returns (uint256 amount) {
        Bond storage bond = _bonds[msg.sender];
        uint64 withdrawableAt = bond.exitAt;
        if (withdrawableAt == 0) revert ExitNotBegun(msg.sender);
        if (block.timestamp < withdrawableAt) revert ExitNotReady(msg.sender, withdrawableAt);
        amount = bond.amount;
        delete _bonds[msg.sender];
        totalBonds -= amount;
        emit BondWithdrawn(msg.sender, amount);
        if (amount != 0) usdc.safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- slashes

    /// @inheritdoc ISettlement
    function slashOverdue(Receipt calldata receipt, bytes calldata signature)
        external
        nonReentrant
        returns (uint256 paid, uint256 bounty)
    {
        bytes32 id = _verifiedReceiptId(receipt, signature);
        if (_slashed[id]) revert AlreadySlashed(id);
        if (receipt.seq != 0) {
            uint64 next = _settledLines[receipt.executor] + 1;
            if (uint256(receipt.seq) + receipt.dependencies.length < next) revert AlreadySettled(id, next);
            uint64 deadline = _effectiveDeadline(receipt);
            if (block.timestamp <= deadline) revert NotOverdue(id, deadline);
        }
        // A receipt without a line (seq 0) can never be settled: if it owes anything, it is provable at once.
        LevelCache memory cache = _newLevelCache(1 + receipt.dependencies.length);
        Due[] memory dues = _dues(receipt, cache);
        if (_totalDue(dues) == 0) revert NothingOwed(id);
        _slashed[id] = true;
        (paid, bounty) = _payOutOfBond(receipt, id, SlashReason.Overdue, dues, cache);
    }

    /// @inheritdoc ISettlement
    function slashMismatch(
        Receipt calldata receipt,
        bytes calldata signature,
        uint64 firstSeq,
        bytes32[] calldata versions,
        uint256[] calldata lines
    ) external nonReentrant returns (uint256 paid, uint256 bounty) {
        bytes32 id = _verifiedReceiptId(receipt, signature);
        if (_slashed[id]) revert AlreadySlashed(id);
        if (receipt.seq == 0) revert NothingOwed(id);
        bytes32 stored = _batchHashes[receipt.executor][firstSeq];
        if (stored == 0 || stored != keccak256(abi.encode(versions, lines))) {
            revert UnknownBatch(receipt.executor, firstSeq);
        }
        LevelCache memory cache = _newLevelCache(1 + receipt.dependencies.length);
        Due[] memory dues = _dues(receipt, cache);
        if (!_differs(id, receipt.seq, dues, firstSeq, versions, lines)) revert NoMismatch(id);
        _slashed[id] = true;
        (paid, bounty) = _payOutOfBond(receipt, id, SlashReason.Mismatch, dues, cache);
    }

    /// @inheritdoc ISettlement
    function slashOvercharge(Receipt calldata receipt, bytes calldata signature)
        external
        nonReentrant
        returns (uint256 paid, uint256 bounty)
    {
        bytes32 id = _verifiedReceiptId(receipt, signature);
        if (_overchargeSlashed[id]) revert OverchargeAlreadySlashed(id);
        (, uint256 fee) = registry.executorFee(receipt.executor);
        if (receipt.executorFee <= fee) revert NotOvercharged(receipt.executorFee, fee);
        address payer = receipt.payer;
        if (!_canClaim(payer)) revert UnclaimablePayer(payer);
        Bond storage bond = _bonds[receipt.executor];
        uint256 available = bond.amount;
        if (available == 0) revert NoBond(receipt.executor);

        _overchargeSlashed[id] = true;
        paid = _min(receipt.executorFee - fee, available);
        bounty = _min(available - paid, paid * BOUNTY_BPS / BPS);
        CreditLedger.Pending memory pending = CreditLedger.newPending(2);
        pending.add(payer, receipt.versionId, CreditKind.Refund, paid);
        pending.add(payer, receipt.versionId, CreditKind.Bounty, bounty);
        _debitBond(bond, paid + bounty);
        CreditLedger.flush(_books, pending);
        emit Slashed(receipt.executor, id, payer, SlashReason.Overcharge, paid, bounty);
    }

    // ---------------------------------------------------------------- claims and surplus

    /// @inheritdoc ISettlement
    function claim() external nonReentrant returns (uint256 amount) {
        amount = _claim(msg.sender);
    }

    /// @inheritdoc ISettlement
    function claimTo(address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        amount = _claim(to);
    }

    /// @inheritdoc ISettlement
    /// @dev Anyone may trigger it: the amount is computed, never given, and the recipient is immutable.
    function sweepSurplus() external nonReentrant returns (uint256 amount) {
        uint256 held = usdc.balanceOf(address(this));
        uint256 committed = _books.totalOwed + totalBonds;
        if (held <= committed) revert NoSurplus();
        amount = held - committed;
        emit SurplusSwept(surplusRecipient, amount);
        usdc.safeTransfer(surplusRecipient, amount);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ISettlement
    function nextSeq(address executor) external view returns (uint64) {
        return _settledLines[executor] + 1;
    }

    /// @inheritdoc ISettlement
    function bondOf(address executor) external view returns (uint256) {
        return _bonds[executor].amount;
    }

    /// @inheritdoc ISettlement
    function exitAt(address executor) external view returns (uint64) {
        return _bonds[executor].exitAt;
    }

    /// @inheritdoc ISettlement
    function batchHash(address executor, uint64 firstSeq) external view returns (bytes32) {
        return _batchHashes[executor][firstSeq];
    }

    /// @inheritdoc ISettlement
    function balanceOf(address account) external view returns (uint256) {
        return _books.balanceOf[account];
    }

    /// @inheritdoc ISettlement
    function totalOwed() external view returns (uint256) {
        return _books.totalOwed;
    }

    /// @inheritdoc ISettlement
    function isSlashed(bytes32 id) external view returns (bool) {
        return _slashed[id];
    }

    /// @inheritdoc ISettlement
    function isOverchargeSlashed(bytes32 id) external view returns (bool) {
        return _overchargeSlashed[id];
    }

    /// @inheritdoc ISettlement
    function receiptId(Receipt calldata receipt) external view returns (bytes32) {
        return _receiptId(receipt);
    }

    /// @inheritdoc ISettlement
    function minimumRoyalty(bytes32 versionId, uint256 calls, uint64 fuel) external view returns (uint256) {
        ISettlementRegistry.Level memory level = registry.settlementLevel(versionId);
        if (!level.exists) revert UnknownVersion(versionId);
        return _minimum(level, calls, fuel);
    }

    // ---------------------------------------------------------------- slash internals

    /// @dev The receipt's id, after checking the executor signed it (EOA or ERC-1271 wallet).
    function _verifiedReceiptId(Receipt calldata receipt, bytes calldata signature) internal view returns (bytes32 id) {
        id = _receiptId(receipt);
        if (!SignatureChecker.isValidSignatureNowCalldata(receipt.executor, id, signature)) {
            revert InvalidReceiptSignature(receipt.executor);
        }
    }

    /// @dev The signed deadline, capped at issuedAt + MAX_SETTLE_WINDOW (an executor cannot push it out of reach).
    function _effectiveDeadline(Receipt calldata receipt) internal pure returns (uint64) {
        uint256 cap = uint256(receipt.issuedAt) + MAX_SETTLE_WINDOW;
        return receipt.deadline < cap ? receipt.deadline : uint64(cap);
    }

    /// @dev Every royalty the receipt owes, in line order (own, then each dependency), with its registered
    /// minimum. A version that does not exist owes nothing on-chain (its line could never have settled either).
    function _dues(Receipt calldata receipt, LevelCache memory cache) internal returns (Due[] memory dues) {
        uint256 count = 1 + receipt.dependencies.length;
        dues = new Due[](count);
        dues[0] = _due(cache, receipt.versionId, receipt.royalty, 1, receipt.fuel);
        for (uint256 i = 1; i < count; ++i) {
            Dependency calldata d = receipt.dependencies[i - 1];
            dues[i] = _due(cache, d.versionId, d.royalty, d.calls, d.fuel);
        }
    }

    /// @dev One resolved line of a receipt.
    function _due(LevelCache memory cache, bytes32 versionId, uint256 signed, uint256 calls, uint64 fuel)
        internal
        returns (Due memory due)
    {
        due.versionId = versionId;
        due.signed = signed;
        due.level = _level(cache, versionId);
        if (due.level.exists) due.minimum = _minimum(due.level, calls, fuel);
    }

    /// @dev What a line pays out of a bond: what was signed, never less than the registered minimum.
    function _payable(Due memory due) internal pure returns (uint256) {
        if (!due.level.exists) return 0;
        return due.signed > due.minimum ? due.signed : due.minimum;
    }

    /// @dev Sum of what the receipt's lines pay out of a bond.
    function _totalDue(Due[] memory dues) internal pure returns (uint256 total) {
        for (uint256 i; i < dues.length; ++i) {
            total += _payable(dues[i]);
        }
    }

    /// @dev Whether any of the receipt's lines that fall in the batch differs from what was signed (receipt id
    /// prefix, version, royalty) or was signed below the registered minimum.
    function _differs(
        bytes32 id,
        uint64 seq,
        Due[] memory dues,
        uint64 firstSeq,
        bytes32[] calldata versions,
        uint256[] calldata lines
    ) internal pure returns (bool) {
        uint256 idPrefix = uint256(id) >> RECEIPT_ID_SHIFT;
        for (uint256 i; i < dues.length; ++i) {
            uint256 lineSeq = uint256(seq) + i;
            if (lineSeq < firstSeq || lineSeq - firstSeq >= lines.length) continue;
            uint256 line = lines[lineSeq - firstSeq];
            uint256 index = (line >> 96) & 0xffff;
            Due memory due = dues[i];
            if (
                line >> RECEIPT_ID_SHIFT != idPrefix || index >= versions.length || versions[index] != due.versionId
                    || (line & ROYALTY_MASK) != due.signed || due.signed < due.minimum
            ) return true;
        }
        return false;
    }

    /// @dev Credits the receipt's royalties to their versions out of the bond (in line order, as far as the bond
    /// goes), then the payer's bounty, and debits the bond by both.
    function _payOutOfBond(
        Receipt calldata receipt,
        bytes32 id,
        SlashReason reason,
        Due[] memory dues,
        LevelCache memory cache
    ) internal returns (uint256 paid, uint256 bounty) {
        Bond storage bond = _bonds[receipt.executor];
        uint256 available = bond.amount;
        if (available == 0) revert NoBond(receipt.executor);
        CreditLedger.Pending memory pending = CreditLedger.newPending(4 * dues.length);
        for (uint256 i; i < dues.length && paid < available; ++i) {
            uint256 amount = _min(_payable(dues[i]), available - paid);
            if (amount == 0) continue;
            _credit(pending, cache, dues[i].versionId, dues[i].level, amount, CreditKind.Royalty);
            paid += amount;
        }
        if (_canClaim(receipt.payer)) {
            bounty = _min(available - paid, paid * BOUNTY_BPS / BPS);
            pending.add(receipt.payer, receipt.versionId, CreditKind.Bounty, bounty);
        }
        _debitBond(bond, paid + bounty);
        CreditLedger.flush(_books, pending);
        _clearLevels(cache);
        emit Slashed(receipt.executor, id, receipt.payer, reason, paid, bounty);
    }

    /// @dev Takes `amount` (at most the bond) out of a bond; the caller credits it, so totalOwed + totalBonds is unchanged.
    function _debitBond(Bond storage bond, uint256 amount) internal {
        bond.amount -= uint192(amount);
        totalBonds -= amount;
    }

    /// @dev Accounts that can call claim(): refunds and bounties to anything else would be locked forever.
    function _canClaim(address account) internal view returns (bool) {
        return account != address(0) && account != address(this) && account != address(usdc);
    }

    // ---------------------------------------------------------------- crediting

    /// @dev Walks the fork chain: each level sends upstreamShareBps of what it receives to its parent version and
    /// splits the rest over its own recipients (`kind` at the first level, Upstream above). Depth is bounded by
    /// the registry (MAX_FORK_DEPTH).
    function _credit(
        CreditLedger.Pending memory pending,
        LevelCache memory cache,
        bytes32 versionId,
        ISettlementRegistry.Level memory level,
        uint256 amount,
        CreditKind kind
    ) internal {
        while (amount != 0) {
            uint256 upstream = amount * level.upstreamShareBps / BPS;
            _creditSplits(pending, versionId, kind, amount - upstream, level.splits);
            if (upstream == 0) break;
            versionId = level.parentVersionId;
            level = _level(cache, versionId);
            kind = CreditKind.Upstream;
            amount = upstream;
        }
    }

    /// @dev floor(amount * bps / 10000) each; the rounding remainder goes to the first recipient.
    function _creditSplits(
        CreditLedger.Pending memory pending,
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
            pending.add(splits[i].recipient, versionId, kind, share);
        }
        pending.add(splits[0].recipient, versionId, kind, amount - paid);
    }

    /// @dev Free 0; PerCall price * calls; PerFuel price * calls + ceil(fuel * fuelPricePerMillion / 1e6).
    function _minimum(ISettlementRegistry.Level memory level, uint256 calls, uint64 fuel)
        internal
        pure
        returns (uint256)
    {
        if (level.accessMode == ICapabilityRegistry.AccessMode.Free) return 0;
        uint256 base = level.price * calls;
        if (level.accessMode == ICapabilityRegistry.AccessMode.PerCall) return base;
        return base + (uint256(fuel) * level.fuelPricePerMillion + 999_999) / 1_000_000;
    }

    /// @dev Sends the caller's whole balance to `to` (effects before the transfer).
    function _claim(address to) internal returns (uint256 amount) {
        amount = CreditLedger.debitAll(_books, msg.sender);
        if (amount == 0) revert NothingToClaim(msg.sender);
        emit Claimed(msg.sender, to, amount);
        usdc.safeTransfer(to, amount);
    }

    /// @dev The smaller of two numbers.
    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    // ---------------------------------------------------------------- receipt hashing

    /// @dev EIP-712 digest of a receipt. The struct encoding is garbage once hashed: the free memory pointer is
    /// put back afterwards.
    function _receiptId(Receipt calldata r) internal view returns (bytes32) {
        uint256 freeMemory;
        assembly ("memory-safe") {
            freeMemory := mload(0x40)
        }
        bytes32 structHash = keccak256(
            bytes.concat(
                abi.encode(
                    RECEIPT_TYPEHASH,
                    r.versionId,
                    keccak256(bytes(r.functionName)),
                    r.payer,
                    r.executor,
                    r.seq,
                    r.royalty,
                    r.executorFee
                ),
                abi.encode(
                    r.fuel, r.inputHash, r.outputHash, _dependenciesHash(r.dependencies), r.paymentRef, r.issuedAt, r.deadline
                )
            )
        );
        assembly ("memory-safe") {
            mstore(0x40, freeMemory)
        }
        return _hashTypedDataV4(structHash);
    }

    /// @dev EIP-712 hash of a Dependency[]: keccak256 of the concatenated struct hashes.
    function _dependenciesHash(Dependency[] calldata deps) internal pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](deps.length);
        for (uint256 i; i < deps.length; ++i) {
            Dependency calldata d = deps[i];
            hashes[i] = keccak256(abi.encode(DEPENDENCY_TYPEHASH, d.versionId, d.calls, d.fuel, d.royalty));
        }
        return keccak256(abi.encodePacked(hashes));
    }

    // ---------------------------------------------------------------- level cache

    /// @dev An empty cache with room for `capacity` levels (it grows past that).
    function _newLevelCache(uint256 capacity) internal pure returns (LevelCache memory cache) {
        if (capacity < 4) capacity = 4;
        cache.keys = new bytes32[](capacity);
        cache.levels = _levelPointers(capacity);
    }

    /// @dev registry.settlementLevel, read once per transaction per version. Nothing this contract does can
    /// change the registry mid-transaction, so a cached level stays exact.
    function _level(LevelCache memory cache, bytes32 versionId) internal returns (ISettlementRegistry.Level memory level) {
        bytes32 key = _levelKey(versionId);
        uint256 entry = _tload(key);
        if (entry != 0) return cache.levels[entry - 1];
        level = registry.settlementLevel(versionId);
        uint256 count = cache.count;
        if (count == cache.levels.length) {
            bytes32[] memory keys = new bytes32[](2 * count);
            ISettlementRegistry.Level[] memory levels = _levelPointers(2 * count);
            for (uint256 i; i < count; ++i) {
                keys[i] = cache.keys[i];
                levels[i] = cache.levels[i];
            }
            cache.keys = keys;
            cache.levels = levels;
        }
        cache.keys[count] = key;
        cache.levels[count] = level;
        cache.count = ++count;
        _tstore(key, count);
    }

    /// @dev Clears the transient index (it would otherwise outlive this call within the transaction).
    function _clearLevels(LevelCache memory cache) internal {
        for (uint256 i; i < cache.count; ++i) {
            _tstore(cache.keys[i], 0);
        }
        cache.count = 0;
    }

    /// @dev A Level[] of `length` slots left unset (only slots below cache.count are read, each set first).
    function _levelPointers(uint256 length) internal pure returns (ISettlementRegistry.Level[] memory array) {
        assembly ("memory-safe") {
            array := mload(0x40)
            mstore(array, length)
            mstore(0x40, add(array, shl(5, add(length, 1))))
        }
    }

    /// @dev Transient slot of a level's cache index: keccak256(abi.encode(versionId, "level")), 64 bytes hashed.
    function _levelKey(bytes32 versionId) internal pure returns (bytes32 key) {
        assembly ("memory-safe") {
            mstore(0x00, versionId)
            mstore(0x20, "glassbox.settlement.level")
            key := keccak256(0x00, 0x40)
        }
    }

    /// @dev Reads a transient slot.
    function _tload(bytes32 slot) internal view returns (uint256 value) {
        assembly ("memory-safe") {
            value := tload(slot)
        }
    }

    /// @dev Writes a transient slot.
    function _tstore(bytes32 slot, uint256 value) internal {
        assembly ("memory-safe") {
            tstore(slot, value)
        }
    }
}
