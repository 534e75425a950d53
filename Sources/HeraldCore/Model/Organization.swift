/// An organization: the tenant every other record belongs to (API.md §2).
public struct Organization: Sendable, Hashable {
    public enum BillingMode: String, Sendable, CaseIterable, Codable {
        case credits
        case unlimited
    }

    /// Internal key used to scope every query; never shown to clients.
    public var key: Int64
    public var id: String
    public var name: String
    public var timezone: String
    public var defaultCountry: String
    public var defaultSenderId: String?
    public var creditBalance: Int64
    public var billingMode: BillingMode
    public var quietHoursStart: String
    public var quietHoursEnd: String
    public var optOutConfirmation: String
    public var helpResponse: String
    public var createdAt: Int64

    public init(key: Int64, id: String, name: String, timezone: String, defaultCountry: String, defaultSenderId: String?,
                creditBalance: Int64, billingMode: BillingMode, quietHoursStart: String, quietHoursEnd: String,
                optOutConfirmation: String, helpResponse: String, createdAt: Int64) {
        self.key = key
        self.id = id
        self.name = name
        self.timezone = timezone
        self.defaultCountry = defaultCountry
        self.defaultSenderId = defaultSenderId
        self.creditBalance = creditBalance
        self.billingMode = billingMode
        self.quietHoursStart = quietHoursStart
        self.quietHoursEnd = quietHoursEnd
        self.optOutConfirmation = optOutConfirmation
        self.helpResponse = helpResponse
        self.createdAt = createdAt
    }

    public static let defaultOptOutConfirmation = "You have been unsubscribed and will receive no more messages. Reply START to resubscribe."
    public static let defaultHelpResponse = "Reply STOP to unsubscribe. Msg&data rates may apply."
}

/// The scope every store call runs in: which organization is asking.
public struct OrganizationScope: Sendable, Hashable {
    public var key: Int64
    public var id: String

    public init(key: Int64, id: String) {
        self.key = key
        self.id = id
    }
}

/// An API key's role (API.md §1): `read` (GET only), `write` (plus create, update, send),
/// `admin` (plus keys, credits, settings).
public enum APIKeyRole: String, Sendable, CaseIterable, Codable, Comparable {
    case read
    case write
    case admin

    private var rank: Int {
        switch self {
        case .read: 0
        case .write: 1
        case .admin: 2
        }
    }

    public static func < (lhs: APIKeyRole, rhs: APIKeyRole) -> Bool { lhs.rank < rhs.rank }
}

/// An API key as stored: only the hash of the secret is kept.
public struct APIKey: Sendable, Hashable {
    public var key: Int64
    public var id: String
    public var organization: OrganizationScope
    public var name: String
    public var role: APIKeyRole
    public var prefix: String
    public var createdAt: Int64
    public var revokedAt: Int64?

    public init(key: Int64, id: String, organization: OrganizationScope, name: String, role: APIKeyRole, prefix: String, createdAt: Int64, revokedAt: Int64?) {
        self.key = key
        self.id = id
        self.organization = organization
        self.name = name
        self.role = role
        self.prefix = prefix
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// One movement of an organization's credit balance.
public struct CreditLedgerEntry: Sendable, Hashable {
    public var key: Int64
    public var id: String
    public var amount: Int64
    public var balanceAfter: Int64
    public var reason: String
    public var campaignId: String?
    public var createdAt: Int64

    public init(key: Int64, id: String, amount: Int64, balanceAfter: Int64, reason: String, campaignId: String?, createdAt: Int64) {
        self.key = key
        self.id = id
        self.amount = amount
        self.balanceAfter = balanceAfter
        self.reason = reason
        self.campaignId = campaignId
        self.createdAt = createdAt
    }
}
