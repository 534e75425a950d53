import Foundation
import HeraldCore
import HeraldProviders
import Testing

/// Receipts are handed over only when acknowledged (like SMPP 3.4 §4.6.1 `deliver_sm` and its
/// `deliver_sm_resp`): an unacknowledged one is emitted again once its lease runs out, an
/// acknowledged one never again, whatever the delay between the two.
@Suite("Simulator receipt acknowledgement")
struct SimulatorAcknowledgementTests {
    @Test("an unacknowledged receipt comes again after its lease; an acknowledged one never")
    func redelivery() async throws {
        try await SimulatorFixture.with { fixture in
            let provider = try SimulatorProvider(configuration: .init(databasePath: fixture.path, latency: .milliseconds(1),
                                                                      receiptLease: .milliseconds(300)))
            let accepted = try await provider.submit(outbound("+15555551234"))
            let seen = try await withThrowingTaskGroup(of: [String].self) { group in
                group.addTask { try await provider.run(); return [] }
                group.addTask {
                    var ids: [String] = []
                    for await receipt in provider.receipts {
                        ids.append(receipt.providerMessageId)
                        // Not acknowledged the first time: the consumer "crashed" before committing.
                        if ids.count == 2 { await provider.acknowledge([receipt]) }
                    }
                    return ids
                }
                // Long enough for several leases: only two emissions may happen.
                try await Task.sleep(for: .seconds(2))
                group.cancelAll()
                var all: [String] = []
                for try await part in group { all += part }
                return all
            }
            #expect(seen == [accepted.providerMessageId, accepted.providerMessageId])
            let messages = try await provider.messages(organizationId: "org-a")
            #expect(messages.first?.status == .delivered)
            await provider.record.close()
        }
    }
}
