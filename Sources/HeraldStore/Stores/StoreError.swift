/// What a store reports to its callers beyond SQL failures.
public enum StoreError: Error, Sendable, Equatable {
    /// No such record in this organization (another organization's record is reported the same way).
    case notFound(String)
    /// A uniqueness rule was broken (API 409 `conflict`).
    case conflict(field: String, message: String)
    /// The record's current state forbids the action (API 400 `invalid_state`).
    case invalidState(String)
}

import Foundation

enum IDs {
    /// A new lowercase UUID string, the public id of every record.
    static func make() -> String { UUID().uuidString.lowercased() }

    /// True when `s` looks like a lowercase or uppercase UUID; other strings can never match a row.
    static func isUUID(_ s: String) -> Bool { UUID(uuidString: s) != nil }
}
