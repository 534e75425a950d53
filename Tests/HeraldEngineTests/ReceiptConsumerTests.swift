import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTestSupport
import Synchronization
import Testing

/// Provider message ids acknowledged to a source.
final class Acknowledged: Sendable {
    let ids = Mutex<[String]>([])
}

@Suite("Receipt consumer", .timeLimit(.minutes(10)))
struct ReceiptConsumerTests {
    /// A provider's stream that has already ended (as at shutdown) with `count` receipts in it,
    /// and the receipts acknowledged back to it.
    static func endedSource(_ count: Int) -> (ReceiptSource, Acknowledged) {
        let (stream, continuation) = AsyncStream.makeStream(of: DeliveryReceipt.self)
        for i in 0..<count {
            continuation.yield(DeliveryReceipt(providerName: "simulator", providerMessageId: "sim-\(i)", outcome: .delivered,
                                               errorCode: nil, at: Date(timeIntervalSince1970: 1_790_000_000)))
        }
        continuation.finish()
        let acknowledged = Acknowledged()
        let source = ReceiptSource(receipts: stream, finish: {}, acknowledge: { receipts in
            acknowledged.ids.withLock { $0 += receipts.map(\.providerMessageId) }
        })
        return (source, acknowledged)
    }

    /// Runs the consumers, failing the test instead of hanging when they do not end in 60 s.
    static func runToEnd(_ engine: DeliveryEngine) async throws -> Bool {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { await engine.runReceiptConsumers(); return true }
            group.addTask { try await Task.sleep(for: .seconds(60)); return false }
            let ended = try await group.next() ?? false
            group.cancelAll()
            return ended
        }
    }

    @Test("an ended stream is applied and acknowledged, then the consumer stops", arguments: TestEngine.available)
    func applied(kind: TestEngine) async throws {
        try await withTestStorage(kind) { storage in
            let (source, acknowledged) = Self.endedSource(3)
            let engine = DeliveryEngine(storage: storage, providers: ProviderRegistry(providers: [], receiptSources: [source]))
            let ended = try await Self.runToEnd(engine)
            #expect(ended)
            #expect(acknowledged.ids.withLock { $0 }.sorted() == ["sim-0", "sim-1", "sim-2"])
        }
    }

    @Test("at shutdown, receipts the database refuses are left unacknowledged and the consumer still stops", arguments: TestEngine.available)
    func refusedAtShutdown(kind: TestEngine) async throws {
        try await withTestStorage(kind) { storage in
            // Every receipt batch now fails: the table it updates is gone.
            try await storage.db.transaction { try await $0.execute("ALTER TABLE campaign_messages RENAME TO campaign_messages_away", []) }
            let (source, acknowledged) = Self.endedSource(3)
            let engine = DeliveryEngine(storage: storage, providers: ProviderRegistry(providers: [], receiptSources: [source]))
            let ended = try await Self.runToEnd(engine)
            #expect(ended, "the consumer retried without end")
            #expect(acknowledged.ids.withLock { $0 }.isEmpty, "nothing was applied, so nothing may be acknowledged")
        }
    }
}
