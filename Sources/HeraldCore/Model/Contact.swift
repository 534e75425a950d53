/// A contact (API.md §3). `phone` is E.164.
public struct Contact: Sendable, Hashable {
    public var key: Int64
    public var id: String
    public var phone: String
    public var firstName: String?
    public var lastName: String?
    public var email: String?
    public var city: String?
    public var state: String?
    public var zip: String?
    public var timezone: String?
    public var tags: [String]
    public var customFields: [String: String]
    public var optedOutAt: Int64?
    public var isTextable: Bool
    public var createdAt: Int64
    public var updatedAt: Int64

    public var isOptedIn: Bool { optedOutAt == nil }

    public init(key: Int64, id: String, phone: String, firstName: String? = nil, lastName: String? = nil, email: String? = nil,
                city: String? = nil, state: String? = nil, zip: String? = nil, timezone: String? = nil, tags: [String] = [],
                customFields: [String: String] = [:], optedOutAt: Int64? = nil, isTextable: Bool = true,
                createdAt: Int64 = 0, updatedAt: Int64 = 0) {
        self.key = key
        self.id = id
        self.phone = phone
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.city = city
        self.state = state
        self.zip = zip
        self.timezone = timezone
        self.tags = tags
        self.customFields = customFields
        self.optedOutAt = optedOutAt
        self.isTextable = isTextable
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A field update that tells "not given" from "set to null".
public enum FieldUpdate<Value: Sendable & Hashable>: Sendable, Hashable {
    case unchanged
    case clear
    case set(Value)

    public var valueOrNil: Value? {
        if case .set(let v) = self { return v }
        return nil
    }

    public var isGiven: Bool {
        if case .unchanged = self { return false }
        return true
    }
}

/// The writable fields of a contact, already validated and normalized (phone in E.164).
public struct ContactChanges: Sendable, Hashable {
    public var phone: String?
    public var isTextable: Bool?
    public var firstName: FieldUpdate<String> = .unchanged
    public var lastName: FieldUpdate<String> = .unchanged
    public var email: FieldUpdate<String> = .unchanged
    public var city: FieldUpdate<String> = .unchanged
    public var state: FieldUpdate<String> = .unchanged
    public var zip: FieldUpdate<String> = .unchanged
    public var timezone: FieldUpdate<String> = .unchanged
    /// Tags to add (merge) or to set (PATCH with `tags`).
    public var tags: [String]?
    public var replaceTags: Bool = false
    /// Custom fields merged in; a nil value removes that key.
    public var customFields: [String: String?]?
    public var optedOut: Bool?

    public init() {}
}

/// A named, static list of contacts.
public struct ContactList: Sendable, Hashable {
    public var key: Int64
    public var id: String
    public var name: String
    public var description: String?
    public var contactCount: Int64
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(key: Int64, id: String, name: String, description: String?, contactCount: Int64, createdAt: Int64, updatedAt: Int64) {
        self.key = key
        self.id = id
        self.name = name
        self.description = description
        self.contactCount = contactCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A saved segment: a named contact filter, kept as its JSON text.
public struct SegmentRecord: Sendable, Hashable {
    public var key: Int64
    public var id: String
    public var name: String
    public var filterJSON: String
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(key: Int64, id: String, name: String, filterJSON: String, createdAt: Int64, updatedAt: Int64) {
        self.key = key
        self.id = id
        self.name = name
        self.filterJSON = filterJSON
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
