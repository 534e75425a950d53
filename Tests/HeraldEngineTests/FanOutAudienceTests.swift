import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTestSupport
import Testing

/// API.md §3: "Opted-out and non-textable contacts are never in a campaign's audience, whatever
/// the filter"; §5.1 `skippedCount` counts only recipients dropped at send time. So a fan-out
/// writes exactly the estimate's `recipients`, and only a later opt-out is a skipped message.
@Suite("Fan-out audience", .timeLimit(.minutes(10)))
struct FanOutAudienceTests {
    enum Audience: String, CaseIterable, Sendable {
        /// `contactFilter` matching every contact.
        case filter
        /// Inline recipients (stored as the campaign's audience rows).
        case inline
    }

    @Test("opted-out and non-textable contacts are left out at fan-out: totalCount equals the estimate's recipients",
          arguments: TestEngine.available, Audience.allCases)
    func leftOut(engine kind: TestEngine, audience: Audience) async throws {
        try await withTestStorage(kind) { storage in
            let f = try await EngineFixture.make(storage, at: DeliveryEngineTests.noon)
            // Seven contacts: 11…15 eligible, 16 opted out, 17 not textable.
            try await f.addContacts(Array(11...17), optedOut: [16])
            var notTextable = ContactChanges()
            notTextable.phone = "+19195550017"
            notTextable.isTextable = false
            _ = try await storage.contacts.upsert(f.scope, notTextable)
            let keys = try await storage.db.transaction { [orgKey = f.scope.key] c in
                try await c.query("SELECT id FROM contacts WHERE org_id = ? ORDER BY id", [.int(orgKey)]).map { $0.int(0) }
            }
            #expect(keys.count == 7)

            var fields = CampaignFields()
            fields.name = "Audience"
            fields.message = "Hi {{firstName}}"
            let resolved: ResolvedAudience
            let campaign: CampaignRecord
            switch audience {
            case .filter:
                fields.contactFilter = .object([:])
                resolved = .filter(ContactFilter())
                campaign = try await storage.campaigns.create(f.scope, fields: fields, status: .pending)
            case .inline:
                resolved = .contacts(keys)
                campaign = try await storage.campaigns.create(f.scope, fields: fields, status: .pending, audience: keys)
            }
            // What the estimate counts (API.md §5.3): 7 in the audience, 5 recipients.
            let counts = try await storage.campaigns.audienceCounts(f.scope, resolved)
            #expect(counts.total == 7 && counts.optedOut == 1 && counts.notTextable == 1)
            let recipients = counts.total - counts.optedOut - counts.notTextable

            try await f.engine.controlTick()
            let fanned = try await storage.campaigns.get(f.scope, id: campaign.id)
            #expect(fanned.status == .sending)
            #expect(fanned.counters.total == recipients)
            #expect(fanned.counters.queued == recipients)
            #expect(fanned.counters.skipped == 0)

            // Opting out after the fan-out is a skipped message.
            let later = try await storage.contacts.find(f.scope, phone: "+19195550015")
            _ = try await storage.contacts.setOptedOut(f.scope, id: try #require(later).id, true)
            try await f.drive()
            let done = try await storage.campaigns.get(f.scope, id: campaign.id)
            #expect(done.status == .completed)
            #expect(done.counters.total == 5 && done.counters.sent == 4 && done.counters.skipped == 1 && done.counters.queued == 0)
            let received = try await f.simulator.countsByPhone(organizationId: f.scope.id)
            #expect(Set(received.keys) == Set((11...14).map { String(format: "+1919555%04d", $0) }))
        }
    }
}
