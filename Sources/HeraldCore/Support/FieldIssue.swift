/// One failing field of a request, as listed in the `details` array of the API error body
/// (API.md §1). `field` is a dotted path into the request (`faqReplies[2].answer`).
public struct FieldIssue: Sendable, Hashable, Codable {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// A request that is well-formed but breaks domain rules. It carries every failing field at
/// once, never just the first (API.md §1, 422 `validation_error`).
public struct ValidationError: Error, Sendable, Hashable {
    public var issues: [FieldIssue]

    public init(_ issues: [FieldIssue]) {
        self.issues = issues
    }

    public init(field: String, message: String) {
        self.issues = [FieldIssue(field: field, message: message)]
    }
}

extension ValidationError: CustomStringConvertible {
    /// `field: message; …`, as a command line or a log shows it.
    public var description: String { issues.map { "\($0.field): \($0.message)" }.joined(separator: "; ") }
}

/// Collects field issues while a validator walks a request, so that every rule runs and every
/// failure is reported together.
public struct IssueCollector: Sendable {
    public private(set) var issues: [FieldIssue] = []

    public init() {}

    public mutating func add(_ field: String, _ message: String) {
        issues.append(FieldIssue(field: field, message: message))
    }

    public mutating func merge(_ other: [FieldIssue], prefix: String? = nil) {
        for issue in other {
            let field = prefix.map { "\($0).\(issue.field)" } ?? issue.field
            issues.append(FieldIssue(field: field, message: issue.message))
        }
    }

    public var isEmpty: Bool { issues.isEmpty }

    /// Throws a `ValidationError` holding every collected issue, if there is any.
    public func throwIfAny() throws(ValidationError) {
        if !issues.isEmpty { throw ValidationError(issues) }
    }
}
