import Foundation
import HTTPTypes
import HeraldAPI
import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import Testing

/// The three keys (read, write, admin) of one organization.
struct RoleKeys: Sendable {
    let read: String
    let write: String
    let admin: String
}

/// One HTTP response, with JSON helpers.
struct Reply: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: ByteBuffer

    var text: String { String(buffer: body) }
    var json: FilterJSON { (try? JSONDecoder().decode(FilterJSON.self, from: Data(buffer: body))) ?? .null }
    /// The `error` code of an error body.
    var error: String? { json["error"]?.string }
    /// The `field` of every entry of `details`.
    var fields: [String] { json["details"]?.array.compactMap { $0["field"]?.string } ?? [] }
    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
}

/// A running application over a fresh database with two organizations: A (the bootstrapped
/// "Default", country US) and B, each with a read, a write and an admin key.
struct TestApp: Sendable {
    let storage: Storage
    let client: any TestClientProtocol
    let orgA: OrganizationScope
    let orgB: OrganizationScope
    let a: RoleKeys
    let b: RoleKeys
    /// The bootstrapped default sender of organization A.
    let defaultSenderId: String
    let registry: PrometheusCollectorRegistry
    /// The data directory, where uploads are received.
    let dataDirectory: String

    static let bootstrapKey = "hk_bootstrapAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

    /// Builds the application over a fresh database of `engine` and runs `body` against it.
    static func run(_ engine: TestEngine, configure: @escaping @Sendable (inout HeraldConfiguration) -> Void = { _ in },
                    _ body: @escaping @Sendable (TestApp) async throws -> Void) async throws {
        try await withTestStorage(engine) { storage in
            let boot = try #require(try await storage.bootstrapIfEmpty(apiKey: bootstrapKey))
            let orgA = OrganizationScope(key: boot.organization.key, id: boot.organization.id)
            let b = try await storage.organizations.create(name: "Other", timezone: "Europe/London", defaultCountry: "GB")
            let orgB = OrganizationScope(key: b.key, id: b.id)
            func keys(_ scope: OrganizationScope, admin: String? = nil) async throws -> RoleKeys {
                let read = try await storage.organizations.createKey(scope, name: "read", role: .read).1
                let write = try await storage.organizations.createKey(scope, name: "write", role: .write).1
                var adminKey = admin
                if adminKey == nil { adminKey = try await storage.organizations.createKey(scope, name: "admin", role: .admin).1 }
                return RoleKeys(read: read, write: write, admin: adminKey!)
            }
            let keysA = try await keys(orgA, admin: bootstrapKey)
            let keysB = try await keys(orgB)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-api-test-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            var configuration = HeraldConfiguration()
            configuration.role = .api // imports are driven by the tests, never in the background
            configuration.dataDirectory = dir.path
            configure(&configuration)
            let registry = PrometheusCollectorRegistry()
            let app = HeraldServer.buildApplication(configuration: configuration, storage: storage,
                                                    logger: Logger(label: "herald.api-test"), prometheus: registry)
            let dataDirectory = configuration.dataDirectory
            try await app.test(.router) { client in
                try await body(TestApp(storage: storage, client: client, orgA: orgA, orgB: orgB, a: keysA, b: keysB,
                                       defaultSenderId: boot.sender.id, registry: registry, dataDirectory: dataDirectory))
            }
        }
    }

    /// Sends a request. `key` defaults to organization A's admin key; `anonymous` sends none.
    func call(_ method: HTTPRequest.Method, _ uri: String, key: String? = nil, anonymous: Bool = false, body: String? = nil,
              contentType: String = "application/json", headers: HTTPFields = [:]) async throws -> Reply {
        var h = headers
        if !anonymous { h[.authorization] = "Bearer \(key ?? a.admin)" }
        if body != nil, h[.contentType] == nil { h[.contentType] = contentType }
        return try await client.execute(uri: uri, method: method, headers: h, body: body.map { ByteBuffer(string: $0) }) { r in
            Reply(status: r.status, headers: r.headers, body: r.body)
        }
    }

    func get(_ uri: String, key: String? = nil) async throws -> Reply { try await call(.get, uri, key: key) }
    func post(_ uri: String, _ body: String, key: String? = nil, headers: HTTPFields = [:]) async throws -> Reply {
        try await call(.post, uri, key: key, body: body, headers: headers)
    }
    func patch(_ uri: String, _ body: String, key: String? = nil) async throws -> Reply { try await call(.patch, uri, key: key, body: body) }
    func delete(_ uri: String, _ body: String? = nil, key: String? = nil) async throws -> Reply { try await call(.delete, uri, key: key, body: body) }

    /// Creates a contact in organization A (or the key's organization) and returns it.
    @discardableResult
    func contact(_ body: String, key: String? = nil) async throws -> FilterJSON {
        let r = try await post("/api/contacts", body, key: key)
        try #require(r.status == .created || r.status == .ok, "contact creation failed: \(r.status) \(r.text)")
        return r.json
    }

    /// Creates a list and returns its id.
    func list(_ name: String, key: String? = nil) async throws -> String {
        let r = try await post("/api/lists", #"{"name":"\#(name)"}"#, key: key)
        try #require(r.status == .created, "list creation failed: \(r.text)")
        return try #require(r.json["id"]?.string)
    }

    /// Uploads a CSV, runs the import to the end, and returns the finished job.
    func importCSV(_ csv: String, query: String = "", key: String? = nil) async throws -> FilterJSON {
        let r = try await call(.post, "/api/contacts/import\(query)", key: key, body: csv, contentType: "text/csv")
        try #require(r.status == .accepted, "import upload failed: \(r.status) \(r.text)")
        let id = try #require(r.json["id"]?.string)
        #expect(r.json == .object(["id": .string(id), "status": .string("processing")]))
        try await ImportService(storage: storage).processPending()
        let job = try await get("/api/contacts/imports/\(id)", key: key)
        try #require(job.status == .ok)
        return job.json
    }

    /// Every item of a paginated collection, walking `nextCursor` (envelope) or `X-Next-Cursor` (bare array).
    func all(_ path: String, limit: Int, key: String? = nil) async throws -> [FilterJSON] {
        var items: [FilterJSON] = []
        var cursor: String?
        let sep = path.contains("?") ? "&" : "?"
        for _ in 0..<1000 {
            let uri = "\(path)\(sep)limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
            let r = try await get(uri, key: key)
            try #require(r.status == .ok, "\(uri): \(r.text)")
            let page: [FilterJSON]
            if case .array(let bare) = r.json {
                page = bare
                cursor = r.header("X-Next-Cursor")
            } else {
                page = r.json["data"]?.array ?? []
                cursor = r.json["nextCursor"]?.string
            }
            // A next cursor only after a full page, and never a page that turns out empty.
            #expect(cursor == nil || page.count == limit, "\(uri): \(page.count) items and a next cursor")
            #expect(!page.isEmpty || items.isEmpty, "\(uri): an empty page after a next cursor")
            items += page
            #expect(items.count <= 10_000)
            if cursor == nil { return items }
        }
        Issue.record("pagination of \(path) did not end")
        return items
    }
}

extension [FilterJSON] {
    /// The `id` of every item.
    var ids: [String] { compactMap { $0["id"]?.string } }
}

extension FilterJSON {
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var number: Double? { if case .number(let d) = self { d } else { nil } }
    var int: Int? { number.map { Int($0) } }
    var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    var array: [FilterJSON] { if case .array(let a) = self { a } else { [] } }
    var keys: Set<String> { if case .object(let o) = self { Set(o.keys) } else { [] } }
    var isNull: Bool { self == .null }
    /// The raw member, `.null` included (the subscript of HeraldCore hides nulls).
    func raw(_ key: String) -> FilterJSON? { if case .object(let o) = self { o[key] } else { nil } }
    subscript(index: Int) -> FilterJSON? { let a = array; return a.indices.contains(index) ? a[index] : nil }
    /// The `id` of every item.
    var ids: [String] { array.compactMap { $0["id"]?.string } }
}

/// Exact key sets of the API.md shapes.
enum Shape {
    static let contact: Set<String> = ["id", "phone", "firstName", "lastName", "email", "city", "state", "zip", "timezone", "tags",
                                       "customFields", "isOptedIn", "optedOutAt", "isTextable", "createdAt", "updatedAt"]
    static let organization: Set<String> = ["id", "name", "timezone", "defaultCountry", "defaultSenderId", "creditBalance", "billingMode",
                                            "quietHours", "optOutConfirmation", "helpResponse", "createdAt"]
    static let list: Set<String> = ["id", "name", "description", "contactCount", "createdAt", "updatedAt"]
    static let segment: Set<String> = ["id", "name", "filter", "contactCount", "createdAt", "updatedAt"]
    static let sender: Set<String> = ["id", "channel", "address", "type", "label", "provider", "isDefault", "maxPerSecond", "createdAt"]
    static let ledger: Set<String> = ["id", "amount", "balanceAfter", "reason", "campaignId", "createdAt"]
    static let error: Set<String> = ["error", "message", "details", "requestId"]
    static let importJob: Set<String> = ["id", "status", "totalRows", "created", "merged", "invalid", "duplicateRows", "errors",
                                         "failureReason", "startedAt", "completedAt"]
}

/// An RFC 3339 UTC instant with milliseconds (API.md §1).
func isInstant(_ value: FilterJSON?) -> Bool {
    guard let s = value?.string else { return false }
    return s.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) != nil
}

func isUUID(_ value: FilterJSON?) -> Bool {
    guard let s = value?.string else { return false }
    return UUID(uuidString: s) != nil && s == s.lowercased()
}
