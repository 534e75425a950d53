import Foundation

/// The OpenAPI 3.1 document served at `/openapi.json`, kept beside the code in
/// `Resources/openapi.json` and checked against the router by tests and against the running
/// server by schemathesis.
public enum OpenAPIDocument {
    public static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
              let data = try? Data(contentsOf: url) else { return Array("{}".utf8) }
        return Array(data)
    }()
}
