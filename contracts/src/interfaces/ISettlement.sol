// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Glassbox settlement interface
/// @notice Settles paid calls: pulls an x402 `exact` EIP-3009 authorization made out to this contract,
/// checks the executor's EIP-712 receipt, and credits pull-payment balances.
interface ISettlement {
    /// @dev EIP-712 typed data, domain ("Glassbox Settlement", "1", chainId, this contract).
    /// Receipt(bytes32 versionId,string functionName,address payer,address executor,uint256 royalty,
    ///         uint256 executorFee,bytes32 inputHash,bytes32 outputHash,uint64 fuelUsed,
    ///         bytes32 paymentNonce,uint64 timestamp)
    struct Receipt {
        bytes32 versionId;
        string functionName;
        address payer;
        address executor;
        uint256 royalty;
        uint256 executorFee;
        bytes32 inputHash;
        bytes32 outputHash;
        uint64 fuelUsed;
        bytes32 paymentNonce;
        uint64 timestamp;
    }

    /// @dev The EIP-3009 TransferWithAuthorization fields exactly as x402 v2 `exact` carries them.
    struct Authorization {
        address from;
        address to;
        uint256 value;
        uint256 validAfter;
        uint256 validBefore;
        bytes32 nonce;
    }

    struct SettlementItem {
        Receipt receipt;
        bytes receiptSignature;
        Authorization authorization;
        bytes paymentSignature;
    }

    enum CreditKind {
        ExecutorFee,
        Royalty,
        Upstream
    }

    /// @param frontRun true when the authorization had already been submitted to the token by someone else.
    event Settled(
        bytes32 indexed receiptId,
        bytes32 indexed versionId,
        address indexed payer,
        address executor,
        uint256 royalty,
        uint256 executorFee,
        uint64 fuelUsed,
        bytes32 paymentNonce,
        bool frontRun
    );
    /// @dev Emitted once per (account, version, kind) per transaction: batches aggregate.
    event Credited(address indexed account, bytes32 indexed versionId, CreditKind indexed kind, uint256 amount);
    /// @dev A batch item that could not settle; the payer was not charged for it.
    event SettlementSkipped(bytes32 indexed receiptId, bytes reason);
    event Claimed(address indexed account, address indexed to, uint256 amount);

    error PaymentMismatch(string field);
    error WrongPayee(address to);
    error UnknownVersion(bytes32 versionId);
    error VersionYanked(bytes32 versionId);
    error RoyaltyBelowPrice(uint256 royalty, uint256 minimum);
    error NotRegisteredExecutor(address executor);
    error InvalidReceiptSignature(address expected, address recovered);
    error InvalidPaymentSignature();
    error AlreadySettled(bytes32 paymentKey);
    error AuthorizationUsedElsewhere(bytes32 nonce);
    error NothingToClaim(address account);
    error ZeroAddress();
    error EmptyBatch();

    function settle(
        Receipt calldata receipt,
        bytes calldata receiptSignature,
        Authorization calldata authorization,
        bytes calldata paymentSignature
    ) external returns (bytes32 receiptId);

    /// @notice Settles many items in one transaction; invalid items are skipped with SettlementSkipped.
    /// @return settled how many items settled
    function settleBatch(SettlementItem[] calldata items) external returns (uint256 settled);

    function claim() external returns (uint256 amount);
    function claimTo(address to) external returns (uint256 amount);

    function balanceOf(address account) external view returns (uint256);
    /// @notice Sum of every unclaimed balance; always equals the USDC this contract holds minus unattributed surplus.
    function totalOwed() external view returns (uint256);
    /// @notice keccak256(abi.encode(payer, nonce)) => settled.
    function isSettled(address payer, bytes32 paymentNonce) external view returns (bool);
    /// @notice The EIP-712 digest of a receipt (its id).
    function receiptId(Receipt calldata receipt) external view returns (bytes32);
}
