import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTestSupport
import Testing

/// `RetentionService`: idempotent responses go after 24 hours, receipts that found no message
/// after two days; newer rows stay.
@Suite("Retention of idempotent responses and unmatched receipts", .timeLimit(.minutes(10)))
struct RetentionServiceTests {
    @Test("a sweep deletes only what is past its retention", arguments: TestEngine.available)
    func sweep(engine kind: TestEngine) async throws {
        try await withTestStorage(kind) { storage in
            let org = try await storage.organizations.create(name: "A")
            let scope = OrganizationScope(key: org.key, id: org.id)
            let (key, _) = try await storage.organizations.createKey(scope, name: "k", role: .write)
            let now = Clock.nowMillis()
            for idem in ["a", "b"] {
                guard case .claimed = try await storage.idempotency.claim(scope, apiKey: key.key, key: idem, requestHash: "h") else {
                    Issue.record("the key \(idem) was not claimed")
                    return
                }
                try await storage.idempotency.complete(apiKey: key.key, key: idem, status: 201, contentType: "application/json", body: Array("{}".utf8))
            }
            try await storage.db.transaction { c in
                for (id, age) in [("old", DeliveryStore.unmatchedReceiptRetentionMillis + 1), ("new", Int64(60_000))] {
                    _ = try await c.execute("INSERT INTO unmatched_receipts (provider_message_id, outcome, error_code, received_at) VALUES (?, 'delivered', NULL, ?)",
                                            [.text(id), .int(now - age)])
                }
            }
            let retention = RetentionService(storage: storage)
            // An hour later the responses are kept; the two-day-old receipt goes.
            let early = try await retention.sweep(now: now + 3_600_000)
            #expect(early.idempotencyKeys == 0 && early.receipts == 1)
            guard case .replay = try await storage.idempotency.claim(scope, apiKey: key.key, key: "a", requestHash: "h") else {
                Issue.record("a kept response was not replayed")
                return
            }
            // A day and a second later both responses go; the recent receipt stays.
            let late = try await retention.sweep(now: Clock.nowMillis() + IdempotencyStore.retentionMillis + 1_000)
            #expect(late.idempotencyKeys == 2 && late.receipts == 0)
            let left = try await storage.db.read { c in try await c.queryOne("SELECT COUNT(*) FROM unmatched_receipts", [])?.int(0) }
            #expect(left == 1)
        }
    }
}
