import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

/// A contact filter holds at most `ContactFilter.maxTotalValues` values in all, whichever
/// endpoint takes it: each value is a bound parameter of the audience query, and a filter past
/// the databases' limits (PostgreSQL 65,535, SQLite commonly 32,766) would pass validation, be
/// launched, and then fail every fan-out.
@Suite("Contact filter size limit", .timeLimit(.minutes(10)))
struct FilterSizeLimitTests {
    /// A filter of `conditions` `in` conditions with `each` values apiece.
    static func filter(conditions: Int, each: Int) -> String {
        let list = (0..<each).map { "\"v\($0)\"" }.joined(separator: ",")
        let items = (0..<conditions).map { _ in #"{"field":"customFields.team","op":"in","value":[\#(list)]}"# }
        return #"{"conditions":[\#(items.joined(separator: ","))]}"#
    }

    @Test("65 conditions of 1,000 values are a 422 naming the filter on segments, previews, estimates and campaigns; 10,000 values pass",
          arguments: TestEngine.available)
    func limit(engine: TestEngine) async throws {
        try await TestApp.run(engine) { t in
            _ = try await t.contact(#"{"phone":"+19195550141","customFields":{"team":"v7"}}"#)
            let huge = Self.filter(conditions: 65, each: 1000)
            let over = Self.filter(conditions: 11, each: 910)   // 10,010 values
            let atLimit = Self.filter(conditions: 10, each: 1000)
            for filter in [huge, over] {
                let requests: [(path: String, body: String, field: String)] = [
                    ("/api/segments", #"{"name":"Big","filter":\#(filter)}"#, "filter"),
                    ("/api/segments/preview", #"{"filter":\#(filter)}"#, "filter"),
                    ("/api/campaigns/estimate", #"{"message":"Hi","contactFilter":\#(filter)}"#, "contactFilter"),
                    ("/api/campaigns", #"{"name":"Big","message":"Hi","contactFilter":\#(filter)}"#, "contactFilter"),
                ]
                for request in requests {
                    let r = try await t.post(request.path, request.body, key: t.a.write)
                    #expect(r.status == .unprocessableContent, "\(request.path): \(r.status)")
                    let details = r.json["details"]?.array ?? []
                    #expect(details.contains { $0["field"]?.string == request.field && ($0["message"]?.string ?? "").contains("10000") },
                            "\(request.path): \(r.text.prefix(500))")
                }
            }
            #expect(try await t.post("/api/segments", #"{"name":"At the limit","filter":\#(atLimit)}"#, key: t.a.write).status == .created)
            let preview = try await t.post("/api/segments/preview", #"{"filter":\#(atLimit)}"#, key: t.a.write)
            #expect(preview.status == .ok && preview.json["contactCount"]?.int == 1, "\(preview.text.prefix(300))")
            let estimate = try await t.post("/api/campaigns/estimate", #"{"message":"Hi","contactFilter":\#(atLimit)}"#, key: t.a.write)
            #expect(estimate.status == .ok && estimate.json["recipients"]?.int == 1, "\(estimate.text.prefix(300))")
            let launched = try await t.post("/api/campaigns", #"{"name":"At the limit","message":"Hi","contactFilter":\#(atLimit)}"#, key: t.a.write)
            #expect(launched.status == .created, "\(launched.text.prefix(300))")
        }
    }
}
