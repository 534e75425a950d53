/// A channel a message goes out on (API.md §4, §5.2).
public enum Channel: String, Sendable, CaseIterable, Codable {
    case text, whatsapp, rcs, telegram, email, slack

    /// Whether a campaign may send a provider template instead of a `message` (API.md §5.2):
    /// WhatsApp's approved templates (DOMAIN.md, WhatsApp), RCS and email templates. An SMS
    /// has no template: without a message it would go out empty.
    public var hasTemplates: Bool {
        switch self {
        case .whatsapp, .rcs, .email: true
        case .text, .telegram, .slack: false
        }
    }
}

/// What kind of address a sender is; derived from its channel and address.
public enum SenderType: String, Sendable, CaseIterable, Codable {
    case longCode, tollFree, shortCode, alphanumeric, whatsappNumber, rcsAgent, telegramBot, emailAddress, slackWorkspace
}

/// A sender: where messages come from.
public struct Sender: Sendable, Hashable {
    public var key: Int64
    public var id: String
    public var channel: Channel
    public var address: String
    public var type: SenderType
    public var label: String?
    public var provider: String
    public var isDefault: Bool
    public var maxPerSecond: Double
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(key: Int64, id: String, channel: Channel, address: String, type: SenderType, label: String?, provider: String,
                isDefault: Bool, maxPerSecond: Double, createdAt: Int64, updatedAt: Int64) {
        self.key = key
        self.id = id
        self.channel = channel
        self.address = address
        self.type = type
        self.label = label
        self.provider = provider
        self.isDefault = isDefault
        self.maxPerSecond = maxPerSecond
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A CSV import job's state (API.md §3).
public struct ImportJob: Sendable, Hashable {
    public enum Status: String, Sendable, Codable { case processing, completed, failed }

    public struct RowError: Sendable, Hashable {
        public var row: Int64
        public var field: String
        public var message: String

        public init(row: Int64, field: String, message: String) {
            self.row = row
            self.field = field
            self.message = message
        }
    }

    public var key: Int64
    public var id: String
    public var status: Status
    public var totalRows: Int64
    public var created: Int64
    public var merged: Int64
    public var invalid: Int64
    public var duplicateRows: Int64
    public var errors: [RowError]
    public var failureReason: String?
    public var startedAt: Int64
    public var completedAt: Int64?

    public init(key: Int64, id: String, status: Status, totalRows: Int64, created: Int64, merged: Int64, invalid: Int64,
                duplicateRows: Int64, errors: [RowError], failureReason: String?, startedAt: Int64, completedAt: Int64?) {
        self.key = key
        self.id = id
        self.status = status
        self.totalRows = totalRows
        self.created = created
        self.merged = merged
        self.invalid = invalid
        self.duplicateRows = duplicateRows
        self.errors = errors
        self.failureReason = failureReason
        self.startedAt = startedAt
        self.completedAt = completedAt
    }
}
