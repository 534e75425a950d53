import Foundation
import HeraldAPI
import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTestSupport
import Hummingbird
import Testing

/// The OpenAPI document (`Resources/openapi.json`, served at `/openapi.json`) must describe
/// exactly the router's endpoints: an endpoint added without its documentation, or documented
/// without existing, fails here. Its conformance to the running server is checked by
/// `scripts/schemathesis.sh`.
@Suite("OpenAPI document", .timeLimit(.minutes(10)))
struct OpenAPIDocumentTests {
    struct Endpoint: Hashable, Comparable, CustomStringConvertible {
        let method: String
        let path: String
        var description: String { "\(method) \(path)" }
        static func < (a: Endpoint, b: Endpoint) -> Bool { (a.path, a.method) < (b.path, b.method) }
    }

    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    func document() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes))
        return try #require(object as? [String: Any], "openapi.json is not a JSON object")
    }

    @Test("is OpenAPI 3.1 JSON with paths and components")
    func parses() throws {
        let doc = try document()
        let version = try #require(doc["openapi"] as? String)
        #expect(version.hasPrefix("3.1"))
        let paths = try #require(doc["paths"] as? [String: Any])
        #expect(!paths.isEmpty)
        let components = try #require(doc["components"] as? [String: Any])
        let schemas = try #require(components["schemas"] as? [String: Any])
        for name in ["Organization", "ApiKey", "ApiKeyCreated", "LedgerEntry", "Contact", "ContactPage", "List", "Segment",
                     "ContactFilter", "Sender", "ImportJob", "Tag", "Error"] {
            #expect(schemas[name] != nil, "components.schemas.\(name) is missing")
        }
    }

    @Test("every $ref resolves")
    func refsResolve() throws {
        let doc = try document()
        var refs: [String] = []
        func walk(_ value: Any) {
            if let o = value as? [String: Any] {
                if let r = o["$ref"] as? String { refs.append(r) }
                o.values.forEach(walk)
            } else if let a = value as? [Any] {
                a.forEach(walk)
            }
        }
        walk(doc)
        #expect(!refs.isEmpty)
        for ref in Set(refs) {
            #expect(ref.hasPrefix("#/"), "\(ref) is not a local reference")
            var node: Any? = doc
            for part in ref.dropFirst(2).split(separator: "/") {
                node = (node as? [String: Any])?[String(part).replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")]
            }
            #expect(node != nil, "\(ref) does not resolve")
        }
    }

    @Test("documents exactly the router's endpoints")
    func matchesRouter() async throws {
        let doc = try document()
        let paths = try #require(doc["paths"] as? [String: Any])
        var documented = Set<Endpoint>()
        for (path, item) in paths {
            let operations = try #require(item as? [String: Any], "paths[\(path)] is not an object")
            for method in Self.methods where operations[method] != nil {
                documented.insert(Endpoint(method: method.uppercased(), path: path))
            }
        }
        let routed = try await withTestStorage(.sqlite) { storage in
            let router = HeraldServer.buildRouter(configuration: HeraldConfiguration(), storage: storage,
                                                  imports: ImportService(storage: storage), prometheus: nil)
            // Hummingbird writes captures as `{id}`, as OpenAPI does.
            return Set(router.routes.map { Endpoint(method: $0.method.rawValue.uppercased(), path: $0.path.description) })
        }
        #expect(!routed.isEmpty)
        let undocumented = routed.subtracting(documented).sorted()
        let unrouted = documented.subtracting(routed).sorted()
        #expect(undocumented.isEmpty, "routes missing from openapi.json: \(undocumented)")
        #expect(unrouted.isEmpty, "openapi.json documents routes the server does not have: \(unrouted)")
    }

    @Test("operations have ids, responses, and auth only where the API needs it")
    func operationsAreComplete() throws {
        let doc = try document()
        let paths = try #require(doc["paths"] as? [String: Any])
        var ids = Set<String>()
        for (path, item) in paths {
            let operations = try #require(item as? [String: Any])
            for method in Self.methods {
                guard let operation = operations[method] as? [String: Any] else { continue }
                let id = try #require(operation["operationId"] as? String, "\(method) \(path) has no operationId")
                #expect(ids.insert(id).inserted, "operationId \(id) is used twice")
                let responses = try #require(operation["responses"] as? [String: Any], "\(method) \(path) has no responses")
                #expect(responses.keys.contains { $0.hasPrefix("2") }, "\(method) \(path) documents no success")
                if path.hasPrefix("/api/") {
                    #expect(operation["security"] == nil, "\(method) \(path) must use the global bearer security")
                    for status in ["401", "429"] {
                        #expect(responses[status] != nil, "\(method) \(path) does not document \(status)")
                    }
                    if path.contains("{id}") {
                        #expect(responses["404"] != nil, "\(method) \(path) does not document 404")
                    }
                } else {
                    let security = try #require(operation["security"] as? [Any], "\(method) \(path) must say security: []")
                    #expect(security.isEmpty)
                }
            }
        }
    }
}
