import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTestSupport
import Testing

/// The check of a claimed message right before it is sent (`DeliveryStore.checkRecipients`,
/// API.md §6 "Opt-out takes effect before the next message is dispatched"): a message goes only
/// to its contact's current phone, and never to a phone whose holder opted out.
@Suite("Recipients checked at dispatch", .timeLimit(.minutes(10)))
struct RecipientCheckTests {
    /// What happens to contact A (+1 919 555 1201) after its message was written and before
    /// it is dispatched.
    enum Change: String, CaseIterable, Sendable, CustomTestStringConvertible {
        /// Nothing: the message goes out.
        case none
        /// A's phone changes to +1 919 555 1298 and opted-out B takes A's old phone: the
        /// message's number now belongs to B (the opt-out bypass this suite pins).
        case phoneTakenByOptedOutContact
        /// A's phone changes; nobody holds the old one.
        case phoneChanged
        /// A opts out.
        case optedOut
        /// A is deleted.
        case deleted
        /// A's phone is suppressed (an opt-out kept after a deleted contact).
        case phoneSuppressed

        var testDescription: String { rawValue }

        /// The message's status reason, nil when it is sent.
        var skipReason: String? {
            switch self {
            case .none: nil
            case .phoneTakenByOptedOutContact, .phoneChanged: "phone_changed"
            case .optedOut, .phoneSuppressed: "opted_out"
            case .deleted: "contact_deleted"
            }
        }
    }

    static let phoneA = "+19195551201"
    static let phoneB = "+19195551202"
    static let newPhoneA = "+19195551298"

    @Test("a message is skipped unless its contact still exists, is opted in and has the message's phone, and the phone is not suppressed",
          arguments: TestEngine.available, Change.allCases)
    func check(engine kind: TestEngine, change: Change) async throws {
        try await withTestStorage(kind) { storage in
            let f = try await EngineFixture.make(storage, at: DeliveryEngineTests.noon)
            var a = ContactChanges()
            a.phone = Self.phoneA
            a.firstName = .set("Ann")
            a.isTextable = true
            let (contactA, _) = try await storage.contacts.upsert(f.scope, a)
            var b = ContactChanges()
            b.phone = Self.phoneB
            b.isTextable = true
            b.optedOut = true
            let (contactB, _) = try await storage.contacts.upsert(f.scope, b)
            let campaign = try await f.launch(message: "Hi {{firstName}}")
            // Admission and fan-out: A's message is written, queued to +1 919 555 1201.
            try await f.engine.controlTick()
            let queued = try await storage.campaigns.get(f.scope, id: campaign.id)
            #expect(queued.status == .sending && queued.counters.total == 1 && queued.counters.queued == 1)

            let idA = contactA.id, idB = contactB.id
            switch change {
            case .none:
                break
            case .phoneTakenByOptedOutContact:
                var moveA = ContactChanges()
                moveA.phone = Self.newPhoneA
                _ = try await storage.contacts.update(f.scope, id: idA, moveA)
                var moveB = ContactChanges()
                moveB.phone = Self.phoneA
                let movedB = try await storage.contacts.update(f.scope, id: idB, moveB)
                #expect(movedB.phone == Self.phoneA && movedB.optedOutAt != nil)
            case .phoneChanged:
                var moveA = ContactChanges()
                moveA.phone = Self.newPhoneA
                _ = try await storage.contacts.update(f.scope, id: idA, moveA)
            case .optedOut:
                _ = try await storage.contacts.setOptedOut(f.scope, id: idA, true)
            case .deleted:
                try await storage.contacts.delete(f.scope, id: idA)
            case .phoneSuppressed:
                let orgKey = f.scope.key
                _ = try await storage.db.transaction { c in
                    try await c.execute("INSERT INTO suppressed_phones (org_id, phone, opted_out_at) VALUES (?, ?, ?)", [.int(orgKey), .text(Self.phoneA), .int(1)])
                }
            }
            try await f.drive()

            let c = try await storage.campaigns.get(f.scope, id: campaign.id)
            #expect(c.status == .completed)
            #expect(c.counters.total == 1 && c.counters.queued == 0)
            let received = try await f.simulator.countsByPhone(organizationId: f.scope.id)
            let orgKey = f.scope.key
            let rows = try await storage.db.transaction { c in
                try await c.query("SELECT status, error_code, phone FROM campaign_messages WHERE org_id = ?", [.int(orgKey)])
            }
            #expect(rows.count == 1)
            if let reason = change.skipReason {
                #expect(received.isEmpty, "sent to \(received)")
                #expect(c.counters.skipped == 1 && c.counters.sent == 0)
                #expect(rows.first.map { "\($0.text(0)) \($0.optionalText(1) ?? "-")" } == "skipped \(reason)")
            } else {
                #expect(received == [Self.phoneA: 1])
                #expect(c.counters.skipped == 0 && c.counters.sent == 1)
            }
        }
    }
}
