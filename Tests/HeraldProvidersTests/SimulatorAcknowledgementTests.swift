import Foundation
import HeraldCore
import HeraldProviders
import Testing

/// Receipts are handed over only when acknowledged (like SMPP 3.4 §4.6.1 `deliver_sm` and its
/// `deliver_sm_resp`): an unacknowledged one is emitted again once its lease runs out, an
/// acknowledged one never again, whatever the delay between the two.
@Suite("Simulator receipt acknowledgement", .timeLimit(.minutes(10)))
struct SimulatorAcknowledgementTests {
    @Test("an unacknowledged receipt comes again after its lease; an acknowledged one is marked and never claimed again")
    func redelivery() async throws {
        try await SimulatorFixture.with { fixture in
            let provider = try SimulatorProvider(configuration: .init(databasePath: fixture.path, latency: .milliseconds(1),
                                                                      receiptLease: .milliseconds(300)))
            let accepted = try await provider.submit(outbound("+15555551234"))
            enum Event: Sendable { case seen([String]), stopped, timedOut }
            let seen = try await withThrowingTaskGroup(of: Event.self) { group in
                group.addTask { try await provider.run(); return .stopped }
                group.addTask {
                    var ids: [String] = []
                    for await receipt in provider.receipts {
                        ids.append(receipt.providerMessageId)
                        // The first is not acknowledged (the consumer "crashed" before
                        // committing it): it must come again once its lease is over.
                        if ids.count == 2 {
                            await provider.acknowledge([receipt])
                            break
                        }
                    }
                    return .seen(ids)
                }
                // A deadline for a loaded machine, not a speed bound.
                group.addTask { try? await Task.sleep(for: .seconds(60)); return .timedOut }
                var ids: [String] = []
                while let event = try await group.next() {
                    if case .seen(let got) = event { ids = got; group.cancelAll() }
                    if case .timedOut = event { group.cancelAll() }
                }
                return ids
            }
            #expect(seen == [accepted.providerMessageId, accepted.providerMessageId])
            let messages = try await provider.messages(organizationId: "org-a")
            #expect(messages.first?.status == .delivered)
            await provider.record.close()
        }
    }
}
