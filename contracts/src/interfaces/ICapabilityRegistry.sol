// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Glassbox capability registry interface
/// @notice The source of truth for scopes, packages, immutable versions, fork links and executors.
/// Every state change emits an event carrying everything the indexer needs (no off-chain reads).
interface ICapabilityRegistry {
    /// @dev How a version is paid for. PerFuel: royalty >= price + ceil(fuelUsed * fuelPricePerMillion / 1e6).
    enum AccessMode {
        Free,
        PerCall,
        PerFuel
    }

    /// @dev One revenue recipient; the bps of a version's splits sum to 10_000.
    struct Split {
        address recipient;
        uint16 bps;
    }

    /// @dev sha256 of the artefacts' bytes.
    struct Hashes {
        bytes32 componentHash;
        bytes32 witHash;
        bytes32 testsHash;
        bytes32 manifestHash;
    }

    /// @dev What publishVersion takes besides the package and the semver string.
    struct VersionInput {
        Hashes hashes;
        AccessMode accessMode;
        uint256 price;
        uint256 fuelPricePerMillion;
        Split[] splits;
        /// @dev The glassbox.json bytes; sha256(manifest) must equal hashes.manifestHash.
        string manifest;
    }

    struct PackageInfo {
        address owner;
        uint16 minForkShareBps;
        /// @dev Fork link: zero for an original package.
        bytes32 parentVersionId;
        uint16 upstreamShareBps;
        /// @dev 0 for an original package, parent's depth + 1 for a fork (bounded by MAX_FORK_DEPTH).
        uint8 forkDepth;
        string name;
    }

    struct VersionInfo {
        bytes32 packageId;
        AccessMode accessMode;
        bool yanked;
        uint64 publishedAt;
        uint256 price;
        uint256 fuelPricePerMillion;
        Hashes hashes;
        string version;
    }

    struct ExecutorInfo {
        bool active;
        /// @dev true once deregistered: a retired operator can never register again.
        bool retired;
        /// @dev Fixed at registration; receipts charging more are slashable (Settlement.slashOvercharge).
        uint256 feePerCall;
        string endpoint;
    }

    /// @notice A scope was claimed by its first registrant.
    event ScopeClaimed(bytes32 indexed scopeId, string scope, address indexed owner);
    /// @notice A scope changed owner.
    event ScopeTransferred(bytes32 indexed scopeId, address indexed from, address indexed to);
    /// @notice A package (or a fork: parentVersionId non-zero) was registered.
    event PackageRegistered(
        bytes32 indexed packageId,
        string name,
        address indexed owner,
        bytes32 indexed parentVersionId,
        uint16 upstreamShareBps,
        uint16 minForkShareBps
    );
    /// @notice A package changed owner.
    event PackageTransferred(bytes32 indexed packageId, address indexed from, address indexed to);
    /// @notice The minimum upstream share for new forks of a package changed.
    event MinForkShareUpdated(bytes32 indexed packageId, uint16 minForkShareBps);
    /// @notice A version was published, with everything an indexer needs.
    event VersionPublished(
        bytes32 indexed versionId,
        bytes32 indexed packageId,
        string version,
        Hashes hashes,
        AccessMode accessMode,
        uint256 price,
        uint256 fuelPricePerMillion,
        Split[] splits,
        string manifest
    );
    /// @notice A version was yanked.
    event VersionYanked(bytes32 indexed versionId, bytes32 indexed packageId);
    /// @notice An operator registered as an executor with an immutable fee per call.
    event ExecutorRegistered(address indexed operator, string endpoint, uint256 feePerCall);
    /// @dev feePerCall is the (unchanged, immutable) registered fee, repeated for indexers.
    event ExecutorUpdated(address indexed operator, string endpoint, uint256 feePerCall);
    /// @notice An executor retired for good.
    event ExecutorDeregistered(address indexed operator);
    /// @notice The package owner offered, repriced (price > 0) or withdrew (price 0) a licence to run the version
    /// locally (Settlement.buyLicence sells it).
    /// @param versionId the version the licence is for
    /// @param packageId its package
    /// @param price the licence price in USDC base units (0: not offered)
    event LicenceOffered(bytes32 indexed versionId, bytes32 indexed packageId, uint256 price);
    /// @notice The registry learned the Settlement contract (and its token), once, from the deployer.
    event SettlementSet(address indexed settlement, address indexed token);

    /// @notice Not `scope/name` of 1-64 chars of [a-z0-9-] each, no leading or trailing dash.
    error InvalidName(string name);
    /// @notice An empty or over-long version string.
    error InvalidVersion(string version);
    /// @notice The scope belongs to another address.
    error ScopeOwnedByAnother(string scope, address owner);
    /// @notice Only the scope's owner may do this.
    error NotScopeOwner(bytes32 scopeId, address caller);
    /// @notice The package name is registered already.
    error NameTaken(string name);
    /// @notice No such package.
    error UnknownPackage(bytes32 packageId);
    /// @notice Only the package's owner may do this.
    error NotPackageOwner(bytes32 packageId, address caller);
    /// @notice Versions are immutable: this one is published already.
    error VersionExists(bytes32 versionId);
    /// @notice No such version.
    error UnknownVersion(bytes32 versionId);
    /// @notice The version is yanked already.
    error AlreadyYanked(bytes32 versionId);
    /// @notice A yanked version cannot offer a licence.
    error VersionIsYanked(bytes32 versionId);
    /// @notice A yanked version cannot be forked.
    error ParentYanked(bytes32 parentVersionId);
    /// @notice The splits break a rule named in `reason`.
    error InvalidSplits(string reason);
    /// @notice Basis points above 10000.
    error InvalidBps(uint256 bps);
    /// @notice A fork must pay its parent package at least its minForkShareBps.
    error UpstreamShareTooLow(uint16 upstreamShareBps, uint16 minForkShareBps);
    /// @notice The fork chain would exceed MAX_FORK_DEPTH.
    error ForkTooDeep(uint8 depth, uint8 maxDepth);
    /// @notice sha256(manifest) differs from hashes.manifestHash.
    error ManifestHashMismatch(bytes32 expected, bytes32 actual);
    /// @notice Pricing that does not fit the access mode (named in `reason`).
    error InvalidPricing(string reason);
    /// @notice An address argument was zero.
    error ZeroAddress();
    /// @notice An empty or over-long executor endpoint.
    error InvalidEndpoint();
    /// @notice The operator is not an active executor.
    error UnknownExecutor(address operator);
    /// @notice The operator is registered already.
    error ExecutorAlreadyRegistered(address operator);
    /// @notice The operator deregistered once and can never register again (its old receipts stay as they were).
    error ExecutorRetired(address operator);
    /// @notice A split recipient that could never claim its credits (L-2): zero, this registry, Settlement,
    /// the token, or the x402 channel contracts.
    error UnclaimableRecipient(address recipient);
    /// @notice Only the deployer may wire the registry to Settlement.
    error NotDeployer(address caller);
    /// @notice setSettlement runs once.
    error SettlementAlreadySet(address settlement);
    /// @notice Versions can only be published once the registry knows Settlement (to refuse unclaimable recipients).
    error SettlementNotSet();

    /// @notice Claims a scope (the part of a name before the slash) for msg.sender.
    function claimScope(string calldata scope) external returns (bytes32 scopeId);
    /// @notice Moves a scope (and the right to register names under it) to newOwner; owner only.
    function transferScope(string calldata scope, address newOwner) external;

    /// @notice Registers `scope/name`; claims the scope for msg.sender if unclaimed, else msg.sender must own it.
    function registerPackage(string calldata name, uint16 minForkShareBps) external returns (bytes32 packageId);
    /// @notice Registers a fork of `parentVersionId` in msg.sender's scope, owing it `upstreamShareBps` of every royalty.
    function registerFork(string calldata name, bytes32 parentVersionId, uint16 upstreamShareBps, uint16 minForkShareBps)
        external
        returns (bytes32 packageId);
    /// @notice Moves a package to newOwner; owner only.
    function transferPackage(bytes32 packageId, address newOwner) external;
    /// @notice Sets the upstream share new forks of this package must pay at least; owner only.
    function setMinForkShare(bytes32 packageId, uint16 minForkShareBps) external;

    /// @notice Publishes an immutable version of an owned package (hashes, pricing, splits, manifest).
    function publishVersion(bytes32 packageId, string calldata version, VersionInput calldata input)
        external
        returns (bytes32 versionId);
    /// @notice Marks a version yanked (not deleted): no new forks of it; calls already served stay payable.
    function yankVersion(bytes32 versionId) external;
    /// @notice Offers (price > 0), reprices or withdraws (price 0) a licence to run `versionId` locally; owner only.
    /// Licences already bought stay valid whatever happens to the offer. A yanked version cannot be offered.
    /// @param versionId the version
    /// @param price USDC base units (fits uint96)
    function setLicencePrice(bytes32 versionId, uint256 price) external;
    /// @notice The current licence price of a version (0: no licence offered).
    function licencePrice(bytes32 versionId) external view returns (uint256);

    /// @notice Registers msg.sender as an executor with an immutable fee per paid call. Refused for a retired operator.
    function registerExecutor(string calldata endpoint, uint256 feePerCall) external;
    /// @notice Changes only the endpoint: the fee is fixed for the life of the registration.
    function updateExecutor(string calldata endpoint) external;
    /// @notice Retires msg.sender for good (it can never register again).
    function deregisterExecutor() external;
    /// @notice One-time wiring by the deployer: the Settlement contract (and its token, read from it) so splits
    /// can refuse recipients that could never claim.
    function setSettlement(address settlement) external;
    /// @notice The Settlement contract (zero until setSettlement).
    function settlement() external view returns (address);

    /// @notice The owner of a scope (zero when unclaimed).
    function scopeOwner(string calldata scope) external view returns (address);
    /// @notice A package's record; reverts UnknownPackage.
    function getPackage(bytes32 packageId) external view returns (PackageInfo memory);
    /// @notice A version's record; reverts UnknownVersion.
    function getVersion(bytes32 versionId) external view returns (VersionInfo memory);
    /// @notice A version's revenue splits; reverts UnknownVersion.
    function getSplits(bytes32 versionId) external view returns (Split[] memory);
    /// @notice Every version of a package in publication order (yanked ones included).
    function getVersionIds(bytes32 packageId) external view returns (bytes32[] memory);
    /// @notice An executor's record (all zero when never registered).
    function getExecutor(address operator) external view returns (ExecutorInfo memory);
    /// @notice Whether the operator is registered and not retired.
    function isActiveExecutor(address operator) external view returns (bool);
    /// @notice keccak256 of a valid `scope/name`; reverts InvalidName.
    function packageIdOf(string calldata name) external pure returns (bytes32);
    /// @notice keccak256(abi.encode(packageId, version)).
    function versionIdOf(bytes32 packageId, string calldata version) external pure returns (bytes32);
}
