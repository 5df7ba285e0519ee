// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Glassbox settlement v2 interface
/// @notice Executors are the x402 payees of the calls they serve; they owe royalties and pay them here in
/// aggregated batches of royalty lines (`settleRoyalties`). Every paid call yields an EIP-712 Receipt the
/// executor signs for the payer; a receipt not settled by its deadline, settled differently from what was
/// signed, or charging more than the registered fee is paid out of the executor's bond on a proof anyone may
/// submit, with a bounty to the receipt's payer. Every credit is a pull-payment balance.
/// @dev Invariant: usdc.balanceOf(this) == totalOwed + totalBonds + surplus (surplus: stray transfers only,
/// recoverable with sweepSurplus to an immutable recipient).
interface ISettlement {
    /// @dev EIP-712 Dependency(bytes32 versionId,uint32 calls,uint64 fuel,uint256 royalty): one dependency
    /// version used by a composed call and the royalty the dependent's run owes it.
    struct Dependency {
        bytes32 versionId;
        uint32 calls;
        uint64 fuel;
        uint256 royalty;
    }

    /// @dev EIP-712 typed data, domain ("Glassbox Settlement", "2", chainId, this contract); matches
    /// sdk/receipt.ts RECEIPT_TYPES field for field. `seq` is the executor's royalty-line number of the own
    /// royalty (dependencies take seq + 1 + i); 0 when the receipt owes no royalty at all.
    struct Receipt {
        bytes32 versionId;
        string functionName;
        address payer;
        address executor;
        uint64 seq;
        uint256 royalty;
        uint256 executorFee;
        uint64 fuel;
        bytes32 inputHash;
        bytes32 outputHash;
        Dependency[] dependencies;
        bytes32 paymentRef;
        uint64 issuedAt;
        uint64 deadline;
    }

    /// @dev What a credit is for. Royalty: a version's own recipients; Upstream: a parent version's recipients
    /// through a fork link; Bounty: a payer rewarded for a slash proof; Refund: an overcharged fee returned;
    /// Licence: a version's own recipients paid for a licence to run it locally (its parents get Upstream).
    enum CreditKind {
        Royalty,
        Upstream,
        Bounty,
        Refund,
        Licence
    }

    /// @dev Which proof a slash was paid on.
    enum SlashReason {
        Overdue,
        Mismatch,
        Overcharge
    }

    /// @notice An executor paid a batch of royalty lines: sequence numbers firstSeq .. firstSeq + count - 1.
    /// @param executor the executor that paid (msg.sender)
    /// @param firstSeq the first sequence number of the batch
    /// @param count how many royalty lines the batch holds
    /// @param total the USDC pulled from the executor (sum of the lines)
    /// @param batchHash keccak256(abi.encode(versions, lines)): what a mismatch proof must reproduce
    event RoyaltiesSettled(
        address indexed executor, uint64 indexed firstSeq, uint256 count, uint256 total, bytes32 batchHash
    );
    /// @notice A balance was credited. Emitted once per (account, version, kind) per transaction: batches aggregate.
    /// @param account who may claim it
    /// @param versionId the version the money is for (the receipt's version for bounties and refunds)
    /// @param kind what the credit is for
    /// @param amount USDC base units added to the account's balance
    event Credited(address indexed account, bytes32 indexed versionId, CreditKind indexed kind, uint256 amount);
    /// @notice An account withdrew its balance.
    /// @param account whose balance it was
    /// @param to where the USDC went
    /// @param amount USDC base units
    event Claimed(address indexed account, address indexed to, uint256 amount);
    /// @notice A licence to run `versionId` locally was bought for `holder`, credited through the version's splits
    /// and fork shares.
    /// @param versionId the version
    /// @param holder who may download its component (executors check hasLicence)
    /// @param payer who paid (msg.sender)
    /// @param price what was paid, in USDC base units
    event LicenceBought(bytes32 indexed versionId, address indexed holder, address indexed payer, uint256 price);

    /// @notice An executor added to its bond.
    /// @param executor whose bond
    /// @param amount added
    /// @param bond the bond after the addition
    event BondPosted(address indexed executor, uint256 amount, uint256 bond);
    /// @notice An executor announced it will withdraw its bond; it stays slashable until withdrawn.
    /// @param executor whose bond
    /// @param withdrawableAt the earliest time withdrawBond succeeds (now + EXIT_DELAY)
    event ExitBegun(address indexed executor, uint64 withdrawableAt);
    /// @notice An executor took its remaining bond back.
    /// @param executor whose bond
    /// @param amount what was left of it
    event BondWithdrawn(address indexed executor, uint256 amount);
    /// @notice A receipt proof was paid out of the executor's bond.
    /// @param executor whose bond paid
    /// @param receiptId the receipt's EIP-712 digest
    /// @param payer the receipt's payer (who got the bounty, and the refund for an overcharge)
    /// @param reason which proof
    /// @param paid royalties credited to the receipt's versions (or, for Overcharge, the excess refunded)
    /// @param bounty credited to the payer on top
    event Slashed(
        address indexed executor,
        bytes32 indexed receiptId,
        address indexed payer,
        SlashReason reason,
        uint256 paid,
        uint256 bounty
    );
    /// @notice Stray USDC (held beyond every balance and bond) was sent to the surplus recipient.
    /// @param to the immutable surplus recipient
    /// @param amount what was swept
    event SurplusSwept(address indexed to, uint256 amount);

    /// @notice A constructor address argument was zero.
    error ZeroAddress();
    /// @notice settleRoyalties was given no lines or no versions.
    error EmptyBatch();
    /// @notice settleRoyalties was given more versions than a line can index (2^16).
    error TooManyVersions(uint256 count);
    /// @notice A royalty line indexes past the versions array.
    /// @param line the line's position in the batch
    /// @param versionIndex the index it carries
    error VersionIndexOutOfRange(uint256 line, uint256 versionIndex);
    /// @notice A version that was never published.
    error UnknownVersion(bytes32 versionId);
    /// @notice A royalty line pays less than the version's per-call minimum.
    /// @param line the line's position in the batch
    /// @param royalty what it pays
    /// @param minimum the registered per-call minimum
    error RoyaltyBelowMinimum(uint256 line, uint256 royalty, uint256 minimum);
    /// @notice The receipt signature does not recover (or validate for) receipt.executor.
    error InvalidReceiptSignature(address executor);
    /// @notice The receipt was already paid out of the bond by an overdue or mismatch proof.
    error AlreadySlashed(bytes32 receiptId);
    /// @notice The receipt's overcharge was already refunded.
    error OverchargeAlreadySlashed(bytes32 receiptId);
    /// @notice The receipt names no royalty line and owes nothing (seq 0, nothing due): nothing to prove.
    error NothingOwed(bytes32 receiptId);
    /// @notice The receipt's deadline (capped at issuedAt + MAX_SETTLE_WINDOW) has not passed.
    error NotOverdue(bytes32 receiptId, uint64 deadline);
    /// @notice Every royalty line of the receipt was already settled (use slashMismatch if one differs).
    error AlreadySettled(bytes32 receiptId, uint64 nextSeq);
    /// @notice No batch with this hash was settled by the executor at firstSeq.
    error UnknownBatch(address executor, uint64 firstSeq);
    /// @notice The batch proves nothing: the receipt's lines in it match what was signed.
    error NoMismatch(bytes32 receiptId);
    /// @notice The receipt's fee does not exceed the executor's registered fee.
    error NotOvercharged(uint256 executorFee, uint256 registeredFee);
    /// @notice The caller has no bond.
    error NoBond(address executor);
    /// @notice beginExit was already called.
    error ExitAlreadyBegun(address executor, uint64 withdrawableAt);
    /// @notice withdrawBond before beginExit.
    error ExitNotBegun(address executor);
    /// @notice withdrawBond before the exit delay passed.
    error ExitNotReady(address executor, uint64 withdrawableAt);
    /// @notice postBond of zero.
    error ZeroAmount();
    /// @notice The receipt's payer could never claim a refund (zero, Settlement or the token).
    error UnclaimablePayer(address payer);
    /// @notice The caller has nothing to claim.
    error NothingToClaim(address account);
    /// @notice The version offers no licence (its licence price is 0).
    error LicenceNotOffered(bytes32 versionId);
    /// @notice A yanked version sells no new licences.
    error LicenceVersionYanked(bytes32 versionId);
    /// @notice The licence costs more than the buyer agreed to pay.
    error LicencePriceAboveMax(bytes32 versionId, uint256 price, uint256 maxPrice);
    /// @notice The holder has this licence already (nothing is charged twice).
    error AlreadyLicensed(bytes32 versionId, address holder);
    /// @notice sweepSurplus when there is no surplus.
    error NoSurplus();

    // ---------------------------------------------------------------- royalties

    /// @notice Pays the caller's next royalty lines, a contiguous run from nextSeq(msg.sender). Each line is
    /// (receipt id high 144 bits | version index 16 bits | royalty 96 bits), see sdk/royalty-batch.ts. Pulls the
    /// total once with transferFrom and credits each (recipient, version, kind) once through splits and forks.
    /// @param versions the versions the lines index
    /// @param lines one per royalty line, in sequence order
    /// @return firstSeq the sequence number of lines[0]
    function settleRoyalties(bytes32[] calldata versions, uint256[] calldata lines) external returns (uint64 firstSeq);

    // ---------------------------------------------------------------- bonds

    /// @notice Adds `amount` to the caller's bond (transferFrom the caller).
    /// @param amount USDC base units
    function postBond(uint256 amount) external;

    /// @notice Starts the exit delay; the bond stays slashable until withdrawBond.
    function beginExit() external;

    /// @notice Sends the caller's remaining bond back, once EXIT_DELAY passed since beginExit.
    /// @return amount what was sent
    function withdrawBond() external returns (uint256 amount);

    // ---------------------------------------------------------------- slashes

    /// @notice Pays a receipt whose royalty lines were not all settled by its deadline out of the executor's bond
    /// (royalties to its versions + bounty to its payer). Also takes a receipt that owes royalty but names no
    /// line (seq 0), at any time.
    /// @param receipt the receipt the executor signed for the payer
    /// @param signature the executor's EIP-712 signature of it
    /// @return paid royalties credited
    /// @return bounty credited to the payer
    function slashOverdue(Receipt calldata receipt, bytes calldata signature)
        external
        returns (uint256 paid, uint256 bounty);

    /// @notice Pays a receipt whose royalty lines were settled differently from what was signed (receipt id
    /// prefix, version or royalty differs, or the signed royalty is below the registered minimum) out of the bond.
    /// @param receipt the receipt the executor signed for the payer
    /// @param signature the executor's EIP-712 signature of it
    /// @param firstSeq the first sequence number of the settled batch holding one of the receipt's lines
    /// @param versions that batch's versions (calldata of its settleRoyalties)
    /// @param lines that batch's lines
    /// @return paid royalties credited
    /// @return bounty credited to the payer
    function slashMismatch(
        Receipt calldata receipt,
        bytes calldata signature,
        uint64 firstSeq,
        bytes32[] calldata versions,
        uint256[] calldata lines
    ) external returns (uint256 paid, uint256 bounty);

    /// @notice Refunds a receipt's fee beyond the executor's registered fee to its payer, plus a bounty, out of the bond.
    /// @param receipt the receipt the executor signed for the payer
    /// @param signature the executor's EIP-712 signature of it
    /// @return paid the excess refunded
    /// @return bounty credited to the payer on top
    function slashOvercharge(Receipt calldata receipt, bytes calldata signature)
        external
        returns (uint256 paid, uint256 bounty);

    // ---------------------------------------------------------------- licences

    /// @notice Buys `holder` a licence to run `versionId` locally at the registry's current licence price, paid by
    /// msg.sender (transferFrom) and credited through the version's splits and fork shares like a royalty.
    /// @param versionId the version (published, not yanked, offering a licence)
    /// @param holder who gets the licence (not zero; a licence cannot be bought twice for one holder)
    /// @param maxPrice the most the caller pays: a repricing in front of the purchase makes it revert
    /// @return price what was paid
    function buyLicence(bytes32 versionId, address holder, uint256 maxPrice) external returns (uint256 price);

    /// @notice Whether `holder` bought a licence to run `versionId` locally.
    function hasLicence(bytes32 versionId, address holder) external view returns (bool);

    // ---------------------------------------------------------------- claims and surplus

    /// @notice Sends the caller's whole balance to the caller.
    /// @return amount what was sent
    function claim() external returns (uint256 amount);

    /// @notice Sends the caller's whole balance to `to`.
    /// @param to the receiver (not zero)
    /// @return amount what was sent
    function claimTo(address to) external returns (uint256 amount);

    /// @notice Sends usdc.balanceOf(this) - totalOwed - totalBonds to surplusRecipient: never owed money or bonds.
    /// @return amount what was swept
    function sweepSurplus() external returns (uint256 amount);

    // ---------------------------------------------------------------- views

    /// @notice The next royalty sequence number `executor` must settle (starts at 1).
    function nextSeq(address executor) external view returns (uint64);
    /// @notice The executor's bond (what slashes can still take).
    function bondOf(address executor) external view returns (uint256);
    /// @notice When the executor's bond becomes withdrawable (0: no exit begun). Payers should not pay an exiting executor.
    function exitAt(address executor) external view returns (uint64);
    /// @notice keccak256(abi.encode(versions, lines)) of the batch the executor settled at firstSeq (0: none).
    function batchHash(address executor, uint64 firstSeq) external view returns (bytes32);
    /// @notice A claimable balance.
    function balanceOf(address account) external view returns (uint256);
    /// @notice Sum of every claimable balance.
    function totalOwed() external view returns (uint256);
    /// @notice Sum of every bond.
    function totalBonds() external view returns (uint256);
    /// @notice Whether an overdue or mismatch proof already paid this receipt.
    function isSlashed(bytes32 receiptId) external view returns (bool);
    /// @notice Whether this receipt's overcharge was already refunded.
    function isOverchargeSlashed(bytes32 receiptId) external view returns (bool);
    /// @notice The EIP-712 digest of a receipt (its id; royalty lines carry its high 144 bits).
    function receiptId(Receipt calldata receipt) external view returns (bytes32);
    /// @notice What `calls` calls of `versionId` using `fuel` in total must pay at least:
    /// Free 0, PerCall price * calls, PerFuel price * calls + ceil(fuel * fuelPricePerMillion / 1e6).
    function minimumRoyalty(bytes32 versionId, uint256 calls, uint64 fuel) external view returns (uint256);
}
